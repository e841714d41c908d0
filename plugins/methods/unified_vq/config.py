"""Settings of `unified_vq` (CMG / Uni-Code, Xia et al., NeurIPS 2023).

Defaults are sized so that a cold pretraining on the default synthetic corpus (~2000 clips,
T=10) stays well under a minute on 2 CPU cores; the `paper` preset restores the reference
code's widths and schedule (haihuangcode/CMG `code/src/pretrain.py`, `pretrain.sh`,
`model/main_model_2.py`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from avtbench.api import UserError
from avtbench.config import setting

REFERENCE_BEHAVIOUR: dict[str, str] = {"spatial_pool": "sum", "residual_relu": "inplace", "cmcm_normaliser": "sum_eps",
                                       "token_filter": "reference", "idle_counting": "always"}
"""What the reference code computes, setting by setting (see `UnifiedVQConfig`): the defaults, and what a
released checkpoint always runs with."""

REFERENCE_HEADS = 4
"""Attention heads of the reference's temporal encoders (`EncoderLayer(d_model, nhead=4)`, main_model_2.py:22)."""

MODALITY_SETS: dict[str, tuple[str, ...]] = {
    "audio,visual": ("audio", "visual"),
    "audio,text": ("audio", "text"),
    "audio,visual,text": ("audio", "visual", "text"),
}


@dataclass
class UnifiedVQConfig:
    """Configuration of the unified-codebook method.

    modalities: which modalities are pretrained together: "audio,visual", "audio,text" or
        "audio,visual,text" (the paper's AV, AT and AVT settings). The default is AV: within the
        CPU budget of the default run (6 epochs) the AVT model had not yet put audio on the codes
        visual and text share (measured audio-visual code agreement 0.0 after 3-4 epochs, 0.11
        after 6, vs 0.17 for AV after 6); the `paper` preset uses AVT as the paper does.
    codebook_size, embedding_dim: the shared codebook (400 x 256 in the paper); embedding_dim is
        also the width of what `encode` returns.
    ema_decay: gamma of the multi-modal EMA codebook update (0.99).
    commitment_cost: beta of the (cross-modal) commitment loss (0.25).
    reset_after: a code unused by every modality for more than this many training batches is
        re-seeded near an active code. The reference code uses 300; the paper appendix says 200.
    active_window: codes used within this many batches count as active re-seeding sources (100).
    semantic_ff_dim, semantic_layers, semantic_heads, dropout: the 2-layer transformer over time
        of every semantic encoder (reference: 1024 feed-forward, 2 layers, 4 heads, dropout 0.1).
    audio_hidden, text_hidden, video_hidden: widths of the modality-specific encoders
        (reference: 256, 256, 2048; the default video_hidden is 64 to save CPU time).
    text_encoder: a Hugging Face id or local path of a BERT-like model, or "synth://text" (the
        synthetic world's small word-level BERT). Its token features are frozen. The paper uses
        BERT-base (768-d); on real data set "bert-base-uncased" or a local copy of it. It is not
        part of the `paper` preset, which must keep working on the synthetic world offline.
    text_lstm_hidden: hidden size per direction of the trainable 2-layer BiLSTM over token
        features (128, so the BiLSTM emits 256).
    text_steps: number of word tokens a caption is padded/truncated to when no corpus fixed it
        (pretraining aligns captions to the corpus clip length T, 10 in the reference).
    synth_text_hidden, synth_text_layers, synth_text_steps: size of the `synth://text` model and
        its masked-language-model training steps (`avtbench.backbones.text.MlmSchedule`) when it
        is built. 256 wide rather than BERT-base's 768: it trains in about 30 s on 2 CPU cores,
        where 768 took 4x longer.
    club_hidden, club_steps, club_lr: the CLUB variational net q_theta, trained `club_steps` times
        per main step on detached inputs with its own Adam (reference: 256, 5, 1e-3).
    club_positions: (clip, time) positions per modality drawn at random for each q_theta update;
        0 uses all B*T positions as the reference does. The default 256 (of 800) cuts the step time
        on CPU; the bound added to the main loss always uses every position.
    alignment: the contrastive term that aligns the modalities' semantic features before the codebook.
        "cpc" (Cross-CPC, the paper and the reference code); "infonce" (the paper's appendix D.3 and
        Table 4, "Cross-CPC vs InfoNCE": each modality's sequence is mean-pooled over time to one
        vector, and every modality pair is contrasted over the batch in both directions, see
        `cpc.PooledInfoNCE`). The reference code has no InfoNCE path (`main_model_2.py:15` imports
        `info_nce.InfoNCE` and never calls it), so the form is ours where the paper is silent. Was
        `cpc_mode`, still read (with a warning) from config files and --set.
    cpc_steps: prediction steps K (1-4) of Cross-CPC. The paper's appendix says 2; the reference
        code's is 1 for two and for three modalities (`Cross_CPC` / `Cross_CPC_AVT` default
        `n_prediction_steps=1`, which `code/src/pretrain.py` never overrides). 0 means the code's 1.
    club_average: how the CLUB bound averages a clip's positions. "clip" (the reference code,
        `CLUBSample_group.mi_est`): per clip, the squared error averaged over time divided by the
        exponent of the time-mean log-variance, one term per clip; "position" (version 2 here, and
        CLUB's per-sample form in the paper): every (clip, time) position is a sample with its own
        variance. q_theta is fitted per position either way, as the reference's `loglikeli` does.
    cpc_context_dim, cpc_layers: the autoregressive LSTM of Cross-CPC (reference: 256, 2 layers;
        the default uses 1 layer to save CPU time).
    cpc_self_weight: weight of the same-modality prediction pairs (cross pairs weigh 1).
    infonce_temperature: temperature of `alignment=infonce` (0.1, the default of the `info_nce`
        package the reference imports; the paper gives none).
    recon_weight, commit_weight, cmcm_weight, club_weight, cpc_weight: loss weights (all 1 in
        the reference; the CMCM term itself carries the reference's factor 1/2; cpc_weight weighs
        whichever `alignment` term is trained, reported as `cpc` either way). cmcm_weight 0 drops
        Cross-Modal Code Matching.
    epochs, batch_size, lr, grad_clip, lr_milestones, lr_gamma: training schedule (reference:
        Adam lr 4e-4, batch 80, gradient-norm clip 0.5, MultiStepLR at 10/20/30 x0.5,
        6 epochs in `pretrain.sh`; the README notes the best checkpoint comes within 5 epochs).
    max_steps: stop after this many optimiser steps in all (0: run every epoch; ours, for benchmarks).
        The default runs the reference's 6 epochs (about 50 s on the default corpus, 2 CPU cores).
        grad_clip 0 turns clipping off; batch_size is at least 2 (the contrastive terms need pairs).
    preset: "default", "paper" or "tiny" (see PRESETS); applied by the core before the other settings.
        "tiny" is a few-second smoke size (what `avtbench check` uses), not a setting for results.

    The codebook ablations of the paper's Figure 2 ("with and without MM-EMA and code reset"). The
    reference code has no switch for either; off, each is the textbook form, ours:
    mm_ema: true (reference, main_model_2.py:1112-1134 for two modalities, :739-771 for three): each
        modality's EMA pass moves a code towards the features that chose it, each averaged with the
        other modalities' features at the same position (appendix C, equations (1)-(2); the reference
        takes the same-position features for the paper's cross-attention vectors r). false: plain
        VQ-VAE EMA, each pass moves a code towards the features of that modality that chose it,
        nothing else (`quantizer.UnifiedCodebook.ema_update`).
    cross_commitment: true (reference, main_model_2.py:1157-1164, :794-810): the commitment loss of
        modality m is beta (2 ||z_m - sg(q_m)||^2 + sum_o w ||z_m - sg(q_o)||^2), the paper's "modified
        commitment loss", which its Figure 1 counts as step 2 of MM-EMA. false: the VQ-VAE commitment
        beta ||z_m - sg(q_m)||^2, the form the reference leaves commented out beside it
        (`#a_loss = self.commitment_cost * 1.0 * a_e_latent_loss`, main_model_2.py:1159, :1163, :797).
        As the paper's Figure 1 makes both steps MM-EMA, its "without MM-EMA" reads as mm_ema=false
        with cross_commitment=false; `mm_ema` alone switches only the EMA update, and neither
        touches CMCM (`cmcm_weight`).
    code_reset: true (reference, main_model_2.py:1137-1152, :773-790): codes idle for more than
        `reset_after` batches are re-seeded near active ones. false: idle codes are still counted
        (`idle`) but never re-seeded.

    The reference code's behaviour where it departs from what it evidently means. Each defaults to
    what the reference code computes (haihuangcode/CMG @ 3b31fa0, `code/src/model/main_model_2.py`
    and `code/src/pretrain.py`); the intended form is one setting away. A released checkpoint is
    always run with the reference's (see `REFERENCE_BEHAVIOUR`):
    spatial_pool: how `Video_Semantic_Encoder` pools the 7x7 positions. "sum" (reference): its
        `nn.Softmax(dim=-1)` (main_model_2.py:97) is applied at :112 to scores of shape
        [B*T, H*W, 1] before the transpose, so it normalises a size-1 axis and every spatial weight
        is exactly 1: the pool is a plain sum over positions of the channel-attended map, and the
        spatial-attention layers get no gradient. "softmax": the weights are a softmax over the
        positions, as the reference's own audio-guided attention does (`model/models.py:221`).
    residual_relu: the residual block of the visual specific encoder and decoder. "inplace"
        (reference): its first `nn.ReLU(True)` (main_model_2.py:47) overwrites the block's input
        before `x + self.res_block(x)` (:56) reads it, so it computes relu(x) + f(relu(x));
        "separate": x + f(relu(x)), the residual form the block is written as.
    cmcm_normaliser: the CMCM loss's normaliser. "sum_eps" (reference, main_model_2.py:1089 for two
        modalities, :703-705 for three): -log(E_ii / (sum_j E_ij + 1e-5)) with E = exp(S - min S);
        "cross_entropy": the softmax cross-entropy -log(E_ii / sum_j E_ij); they differ by less than
        1e-5 / B per modality pair (every E_ij >= 1).
    token_filter: which caption tokens reach the text BiLSTM. "reference" (pretrain.py:106-109 on
        what bert-embedding 1.0.1 hands it, see `vocabulary.py`): BERT reads the caption's first 25
        tokens, and only words whose BERT vocabulary index is one of the 1,046 of CMG's `cnt.pkl`
        (`vocabulary.CMG_TOKEN_IDS`) are kept, a word BERT splits into pieces never; this needs a
        tokenizer with BERT's uncased vocabulary (`bert-base-uncased`), and with any other
        (`synth://text`, whose words have ids of its own) every word token is kept and pretraining
        reports `text_token_filter` 0. "none": every word token of the whole caption is kept.
    idle_counting: when the codebook counts idle codes and re-seeds dead ones. "always" (reference:
        main_model_2.py:773-790 for three modalities, :1137-1152 for two, sit after the
        `if self.training:` block of :739 / :1112, not in it): every forward pass of the codebook
        counts, in eval mode too; "train": only training passes count. Encoding
        (`UnifiedVQ.encode`) only looks codes up and never counts, as the reference's
        `*_VQ_Encoder` methods (:284-306) do not; the setting matters to code that runs the
        training forward pass in eval mode.
    checkpoint: a released CMG checkpoint (`torch.save` dict with `Encoder_parameters`, as
        `code/src/pretrain.py:390-406` writes it) to evaluate instead of pretraining; "" pretrains.
        Its sizes must be this config's (`preset=paper` for the released AVT file); it runs with
        `REFERENCE_BEHAVIOUR` whatever the settings above, and says so (`UnifiedVQ.load_released`).
    """

    modalities: Literal["audio,visual", "audio,text", "audio,visual,text"] = "audio,visual"
    codebook_size: int = setting(400, low=1)
    embedding_dim: int = setting(256, low=1)
    ema_decay: float = setting(0.99, low=0, high=1)
    commitment_cost: float = setting(0.25, low=0)
    reset_after: int = setting(300, low=1)
    active_window: int = setting(100, low=1)
    semantic_ff_dim: int = setting(256, low=1)
    semantic_layers: int = setting(2, low=1)
    semantic_heads: int = setting(4, low=1)
    dropout: float = setting(0.1, low=0, high=1)
    audio_hidden: int = setting(256, low=1)
    text_hidden: int = setting(256, low=1)
    video_hidden: int = setting(64, low=1)
    text_encoder: str = "synth://text"
    text_lstm_hidden: int = setting(128, low=1)
    text_steps: int = setting(10, low=1)
    synth_text_hidden: int = setting(256, low=1)
    synth_text_layers: int = setting(2, low=1)
    synth_text_steps: int = setting(300, low=1)
    club_hidden: int = setting(256, low=1)
    club_steps: int = setting(5, low=1)
    club_lr: float = setting(1e-3, above=0)
    club_positions: int = setting(256, low=0)
    club_average: Literal["clip", "position"] = "clip"
    alignment: Literal["cpc", "infonce"] = "cpc"
    cpc_steps: int = setting(0, low=0, high=4)
    cpc_context_dim: int = setting(256, low=1)
    cpc_layers: int = setting(1, low=1)
    cpc_self_weight: float = setting(0.1, low=0)
    infonce_temperature: float = setting(0.1, above=0)
    recon_weight: float = setting(1.0, low=0)
    commit_weight: float = setting(1.0, low=0)
    cmcm_weight: float = setting(1.0, low=0)
    club_weight: float = setting(1.0, low=0)
    cpc_weight: float = setting(1.0, low=0)
    mm_ema: bool = True
    cross_commitment: bool = True
    code_reset: bool = True
    epochs: int = setting(6, low=1)
    batch_size: int = setting(80, low=2)
    lr: float = setting(4e-4, above=0)
    grad_clip: float = setting(0.5, low=0)
    lr_milestones: tuple[int, ...] = setting((10, 20, 30), low=1)
    lr_gamma: float = setting(0.5, above=0, high=1)
    max_steps: int = setting(0, low=0)
    spatial_pool: Literal["sum", "softmax"] = "sum"
    residual_relu: Literal["inplace", "separate"] = "inplace"
    cmcm_normaliser: Literal["sum_eps", "cross_entropy"] = "sum_eps"
    token_filter: Literal["reference", "none"] = "reference"
    idle_counting: Literal["always", "train"] = "always"
    checkpoint: str = ""
    preset: Literal["default", "paper", "tiny"] = "default"

    RENAMED: ClassVar[dict[str, str]] = {"cpc_mode": "alignment"}
    """Old setting names `avtbench.config.build` still reads, with a warning."""

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "tiny": {"modalities": "audio,visual,text", "codebook_size": 16, "embedding_dim": 16, "semantic_ff_dim": 32,
                 "semantic_heads": 2, "audio_hidden": 12, "text_hidden": 12, "video_hidden": 8, "text_lstm_hidden": 8,
                 "synth_text_hidden": 16, "synth_text_layers": 1, "synth_text_steps": 20, "club_hidden": 16,
                 "club_positions": 0, "club_steps": 2, "cpc_context_dim": 16, "epochs": 2, "batch_size": 8},
        "paper": {
            "modalities": "audio,visual,text",
            "codebook_size": 400,
            "embedding_dim": 256,
            "semantic_ff_dim": 1024,
            "audio_hidden": 256,
            "text_hidden": 256,
            "video_hidden": 2048,
            "reset_after": 300,
            "club_hidden": 256,
            "club_steps": 5,
            "club_lr": 1e-3,
            "club_positions": 0,
            "cpc_layers": 2,
            "epochs": 6,
            "batch_size": 80,
            "lr": 4e-4,
            "grad_clip": 0.5,
        },
    }

    def check(self) -> None:
        """Raise UserError on a setting pretraining cannot use (called at plan time)."""
        _ = self.modality_list, self.prediction_steps
        if self.embedding_dim % self.semantic_heads:
            raise UserError(f"unified_vq.embedding_dim ({self.embedding_dim}) must be a multiple of "
                            f"unified_vq.semantic_heads ({self.semantic_heads})")
        if self.checkpoint:
            self._check_released()

    def _check_released(self) -> None:
        """A released checkpoint exists, and `semantic_heads` is the reference's 4 (`model/main_model_2.py:22`),
        which no shape in the file shows: another count would load and compute something else."""
        if not Path(self.checkpoint).expanduser().is_file():
            raise UserError(f"unified_vq.checkpoint {self.checkpoint} is not a file; give the path of a released CMG checkpoint")
        if self.semantic_heads != REFERENCE_HEADS:
            raise UserError(f"unified_vq.checkpoint is a released CMG model, whose transformers have {REFERENCE_HEADS} heads "
                            f"(main_model_2.py:22); unified_vq.semantic_heads is {self.semantic_heads}: set it to {REFERENCE_HEADS}")

    @property
    def modality_list(self) -> tuple[str, ...]:
        try:
            return MODALITY_SETS[self.modalities]
        except KeyError:
            raise UserError(
                f"unified_vq.modalities must be one of {', '.join(MODALITY_SETS)}, got {self.modalities!r}"
            ) from None

    @property
    def prediction_steps(self) -> int:
        """Cross-CPC horizon K: the configured value, or the reference default for the modality count."""
        steps = self.cpc_steps or 1
        if not 1 <= steps <= 4:
            raise UserError(f"unified_vq.cpc_steps must be 1-4 (or 0 for the default), got {self.cpc_steps}")
        return steps
