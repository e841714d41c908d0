"""VIP-ANT's published numbers (zhaoyanpeng/vipant), each with where it comes from."""
from __future__ import annotations

PATCH_STRIDE: tuple[int, int] = (16, 24)
"""(time, frequency) stride of the 32x32 audio patches; `bash/run_bimodal_va.sh` and `bash/run_bimodal_at.sh`
(`model.audio.pre_encoder.stride=[16,24]`, checkpoint `bimodal_16x24_*.pth`; the YAML default in
`configs/model/audio/vit_val.yaml` is [16, 16])."""
CLIP_FRAMES = 1000
"""FBANK frames of one clip (10 s at a 10 ms shift); `configs/running/audio/default.yaml` (`max_len`)."""
MEL_BINS = 128
"""Mel bins; `configs/running/audio/default.yaml` (`num_mel_bins`)."""

FBANK_MEAN = -4.93839311
FBANK_STD = 5.75751113
"""AudioSet FBANK statistics; `bash/run_bimodal_va.sh` (`running.audio.norms`), hard-coded again in
`cvap/data/audio/transform.py` (`FbankTransform`)."""
FBANK_STD_SCALE = 1.0
"""VIP-ANT divides by the std alone (`cvap/data/image_audio.py`), not by a multiple of it as AST does."""
