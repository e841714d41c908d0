"""Published numbers of CAV-MAE (YuanGongND/cav-mae, commit 68fe8c2) and LG-CAV-MAE (Ishikawa et al.,
Interspeech 2025), each with where it comes from."""
from __future__ import annotations

FBANK_MEAN = -5.081
FBANK_STD = 4.4849
"""CAV-MAE's FBANK statistics: (x + 5.081) / 4.4849 (`src/dataloader.py:286`, `dataset_mean`/`dataset_std` of
`egs/vggsound/run_cavmae_pretrain.sh:36-37`); not VIP-ANT's (-4.93839311, 5.75751113)."""
MEL_BINS = 128
"""`'num_mel_bins': 128` (`src/run_cavmae_pretrain.py:74`), F = 128 in the paper (Sec. 3.1)."""
CLIP_FRAMES = 1024
"""`target_length=1024` (`egs/vggsound/run_cavmae_pretrain.sh:38`); Ta = 1024 in the paper (Sec. 3.1)."""
PATCH = 16
"""16 x 16 patches for both modalities (`patch_size=16`, `src/models/cav_mae.py:68`)."""
IMAGE_SIZE = 224
"""Frames are Resize(224) + CenterCrop(224) (`src/dataloader.py:125-126`, `im_res = 224`, `src/run_cavmae_pretrain.py:73`); 224 x 224 in the paper (Sec. 3.1)."""
IMAGE_MEAN = (0.4850, 0.4560, 0.4060)
IMAGE_STD = (0.2290, 0.2240, 0.2250)
"""`transforms.Normalize` (`src/dataloader.py:128-130`; ImageNet statistics)."""

EMBED_DIM = 768
HEADS = 12
SPECIFIC_DEPTH = 11
SHARED_DEPTH = 1
"""`CAVMAE(embed_dim=768, modality_specific_depth=11, num_heads=12)` (`src/models/cav_mae.py:69`): 11 blocks per modality and
12 - 11 = 1 shared block (`blocks_u`)."""
DECODER_DIM = 512
DECODER_DEPTH = 8
DECODER_HEADS = 16
MLP_RATIO = 4.0
"""`decoder_embed_dim=512, decoder_depth=8, decoder_num_heads=16, mlp_ratio=4.` (`src/models/cav_mae.py:70-71`)."""

MASK_RATIO = 0.75
"""`masking_ratio=0.75` for audio and visual, unstructured (`mask_mode=unstructured`;
`egs/vggsound/run_cavmae_pretrain.sh:18-19`)."""
CONTRAST_TAU = 0.05
"""`forward_contrastive`: logits = a @ v.T / 0.05 (`src/models/cav_mae.py:359`)."""
CONTRAST_WEIGHT = 0.01
"""`contrast_loss_weight=0.01` (`egs/vggsound/run_cavmae_pretrain.sh:20`; the CAV-MAE paper's lambda_1; it is not restated in the LG-CAV-MAE paper)."""
TEXT_WEIGHT = 0.01
"""lambda_2 = 0.01, the optimum of the paper's ablation over {0.001, 0.005, 0.01, 0.05, 0.1} (Table 1)."""
LR = 5e-4
"""Adam, learning rate 0.0005 (paper, Sec. 3.1). CAV-MAE's scripts use 1e-4 on VGGSound
(`egs/vggsound/run_cavmae_pretrain.sh:31`) and 5e-5 for the AudioSet base model
(`egs/audioset/run_cavmae_pretrain_base.sh:31`)."""
EPOCHS = 25
BATCH_SIZE = 120
"""CAV-MAE's VGGSound pretraining: `epoch=25`, `batch_size=120` (`egs/vggsound/run_cavmae_pretrain.sh:32,41`;
AudioSet: 25 and 48, `egs/audioset/run_cavmae_pretrain_base.sh:32,41`)."""
LR_DECAY = 0.5
LR_DECAY_START = 10
LR_DECAY_EVERY = 5
"""`lrscheduler_decay=0.5`, `lrscheduler_start=10`, `lrscheduler_step=5` (`egs/vggsound/run_cavmae_pretrain.sh:33-35`),
as `MultiStepLR(optimizer, list(range(start, 1000, step)), gamma=decay)` stepped once per epoch
(`src/traintest_cavmae.py:57,168`)."""
KEEP_PERCENT = 30
"""Top k % of the CLAP-ranked triplets, k in {50, 30, 10}; 30 % was the best (paper, Tables 3 and 5)."""
