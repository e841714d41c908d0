"""VIP-ANT's published numbers (zhaoyanpeng/vipant), each with where it comes from."""
from __future__ import annotations

PATCH_STRIDE: tuple[int, int] = (16, 24)
"""(time, frequency) stride of the 32x32 audio patches: `model.audio.pre_encoder.stride=[16,24]` in
`bash/run_bimodal_va.sh:25` and `bash/run_bimodal_at.sh:28` (checkpoint `bimodal_16x24_00071478.pth`,
`run_bimodal_at.sh:22`); the YAML default is [16, 16] (`configs/model/audio/vit_val.yaml:17`)."""
CLIP_FRAMES = 1000
"""FBANK frames of one clip (10 s at a 10 ms shift); `max_len: 1000`, `configs/running/audio/default.yaml:2`."""
MEL_BINS = 128
"""Mel bins; `num_mel_bins: 128`, `configs/running/audio/default.yaml:12`."""

FBANK_MEAN = -4.93839311
FBANK_STD = 5.75751113
"""AudioSet FBANK statistics; `running.audio.norms=[-4.93839311,5.75751113]`, `bash/run_bimodal_va.sh:26`
(applied at `cvap/data/image_audio.py:200-202`), hard-coded again in `cvap/data/audio/transform.py:229`."""
FBANK_STD_SCALE = 1.0
"""VIP-ANT divides by the std alone (`(audio - mean) / std`, `cvap/data/image_audio.py:202`), not by a multiple
of it as AST does."""
