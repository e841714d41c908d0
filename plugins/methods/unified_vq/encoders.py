"""Encoders and decoders of the unified-codebook method.

Semantic encoders (their output is quantized into the shared codebook) and modality-specific
encoders/decoders (the paper's DCID split) follow haihuangcode/CMG
`code/src/model/main_model_2.py`: `InternalTemporalRelationModule`, `Video_Semantic_Encoder`,
`Audio_Encoder`, `Text_Encoder`, `Video_Encoder`, `Audio_Decoder`, `Text_Decoder`,
`Video_Decoder`; the text BiLSTM is `Text_ar_lstm` in `code/src/pretrain.py`.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn


class TemporalEncoder(nn.Module):
    """Linear projection to d_model then a post-norm transformer encoder over the T steps.

    [B, T, input_dim] -> [B, T, d_model]. The reference layer is post-norm, ReLU, 4 heads,
    feed-forward 1024, dropout 0.1, 2 layers.
    """

    def __init__(self, input_dim: int, d_model: int = 256, layers: int = 2, heads: int = 4,
                 ff_dim: int = 1024, dropout: float = 0.1) -> None:
        super().__init__()
        self.project = nn.Linear(input_dim, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, ff_dim, dropout, activation="relu", batch_first=True)
        self.layers = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(self.project(x))


SPATIAL_POOLS = ("sum", "softmax")
RESIDUAL_RELUS = ("inplace", "separate")


class VisualAttentionPool(nn.Module):
    """Channel then spatial self-attention pooling of a feature map: [B, T, H, W, C] -> [B, T, C].

    Channel: squeeze-excitation on the spatial mean, a = sigmoid(W2 relu(W1 mean_hw v)),
    v' = v * a + v. Spatial, `spatial="softmax"`: weights softmax_hw(tanh(w . (relu(A v'_hw) *
    relu(G mean_hw v)))), output sum_hw weight_hw v'_hw. `spatial="sum"`, what the reference
    computes (its softmax normalises a size-1 axis, see `UnifiedVQConfig.spatial_pool`): every
    weight is 1, output sum_hw v'_hw; A, G and w are kept (a checkpoint holds them) but unused.
    """

    def __init__(self, channels: int, reduction: int = 8, spatial: str = "softmax") -> None:
        super().__init__()
        if spatial not in SPATIAL_POOLS:
            raise ValueError(f"spatial must be one of {SPATIAL_POOLS}, got {spatial!r}")
        self.spatial = spatial
        squeezed = max(channels // reduction, 1)
        half = max(channels // 2, 1)
        self.excite = nn.Sequential(nn.Linear(channels, squeezed, bias=False), nn.ReLU(),
                                    nn.Linear(squeezed, channels, bias=False), nn.Sigmoid())
        self.global_query = nn.Linear(channels, half)
        self.local_query = nn.Linear(channels, half)
        self.score = nn.Linear(half, 1)

    def forward(self, v: Tensor) -> Tensor:
        b, t, h, w, c = v.shape
        v = v.reshape(b * t, h * w, c)
        mean = v.mean(1)
        v = v * self.excite(mean).unsqueeze(1) + v
        if self.spatial == "sum":
            return v.sum(1).reshape(b, t, c)
        query = torch.relu(self.local_query(v)) * torch.relu(self.global_query(mean)).unsqueeze(1)
        weights = torch.softmax(torch.tanh(self.score(query)).squeeze(-1), dim=-1)
        return torch.bmm(weights.unsqueeze(1), v).reshape(b, t, c)


class VisualSemanticEncoder(nn.Module):
    """Attention pooling over space, then the temporal transformer: [B, T, H, W, C] -> [B, T, D]."""

    def __init__(self, channels: int, d_model: int = 256, spatial: str = "softmax", **temporal: int | float) -> None:
        super().__init__()
        self.pool = VisualAttentionPool(channels, spatial=spatial)
        self.temporal = TemporalEncoder(channels, d_model, **temporal)

    def forward(self, v: Tensor) -> Tensor:
        return self.temporal(self.pool(v))


class TextLSTM(nn.Module):
    """Trainable 2-layer BiLSTM over frozen token features: [B, L, text_dim] -> [B, L, 2 * hidden]."""

    def __init__(self, text_dim: int = 768, hidden: int = 128, layers: int = 2) -> None:
        super().__init__()
        self.lstm = nn.LSTM(text_dim, hidden, layers, batch_first=True, bidirectional=True)

    @property
    def output_dim(self) -> int:
        return 2 * self.lstm.hidden_size

    def forward(self, tokens: Tensor) -> Tensor:
        return self.lstm(tokens)[0]


class LinearSpecificEncoder(nn.Module):
    """Modality-specific encoder of audio and text: relu(W x), [B, T, in] -> [B, T, hidden]."""

    def __init__(self, input_dim: int, hidden: int) -> None:
        super().__init__()
        self.linear = nn.Linear(input_dim, hidden)

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(self.linear(x))


class LinearDecoder(nn.Module):
    """Reconstruct audio (or the text BiLSTM features) from [W_q q ; specific] : [B, T, out]."""

    def __init__(self, hidden: int, output_dim: int, code_dim: int) -> None:
        super().__init__()
        self.from_code = nn.Linear(code_dim, hidden)
        self.out = nn.Linear(2 * hidden, output_dim)

    def forward(self, specific: Tensor, quantized: Tensor) -> Tensor:
        return self.out(torch.cat([self.from_code(quantized), specific], dim=-1))


def _spatial_padding(height: int, width: int) -> int:
    """The reference shrinks 7x7 maps to 3x3 with two unpadded 3x3 convolutions; maps smaller than 5x5 keep their size."""
    return 0 if min(height, width) >= 5 else 1


class _Residual(nn.Module):
    """x + f(relu(x)) with f = conv1x1 . relu . conv3x3 ("separate"), or relu(x) + f(relu(x))
    ("inplace", what the reference's in-place first ReLU makes of it; `UnifiedVQConfig.residual_relu`)."""

    def __init__(self, channels: int, relu: str = "separate") -> None:
        super().__init__()
        if relu not in RESIDUAL_RELUS:
            raise ValueError(f"relu must be one of {RESIDUAL_RELUS}, got {relu!r}")
        self.relu = relu
        self.block = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1, bias=False),
                                   nn.ReLU(), nn.Conv2d(channels, channels, 1, bias=False))

    def forward(self, x: Tensor) -> Tensor:
        if self.relu == "inplace":
            x = torch.relu(x)
        return x + self.block(x)


class VisualSpecificEncoder(nn.Module):
    """Convolutional modality-specific encoder of the visual map.

    [B, T, H, W, C] -> (map [B, T, h, w, hidden], CLUB feature [B, T, C]); the CLUB feature is the
    spatially pooled map sent back to C channels by a 2-layer MLP, as in the reference.
    """

    def __init__(self, channels: int, hidden: int, height: int, width: int, residual_relu: str = "separate") -> None:
        super().__init__()
        pad = _spatial_padding(height, width)
        half = max(hidden // 2, 1)
        self.convs = nn.Sequential(
            nn.Conv2d(channels, half, 3, padding=pad), nn.ReLU(),
            nn.Conv2d(half, hidden, 3, padding=pad), nn.ReLU(),
            nn.Conv2d(hidden, hidden, 1), _Residual(hidden, residual_relu), nn.ReLU(),
        )
        self.to_club = nn.Sequential(nn.Linear(hidden, half), nn.ReLU(), nn.Linear(half, channels))

    def forward(self, v: Tensor) -> tuple[Tensor, Tensor]:
        b, t, h, w, c = v.shape
        fmap = self.convs(v.reshape(b * t, h, w, c).permute(0, 3, 1, 2))
        pooled = fmap.mean(dim=(2, 3)).reshape(b, t, -1)
        fmap = fmap.permute(0, 2, 3, 1)
        return fmap.reshape(b, t, *fmap.shape[1:]), self.to_club(pooled)


class VisualDecoder(nn.Module):
    """Reconstruct [B, T, H, W, C] from the specific map concatenated with the (broadcast, projected) code."""

    def __init__(self, hidden: int, channels: int, code_dim: int, height: int, width: int,
                 residual_relu: str = "separate") -> None:
        super().__init__()
        pad = _spatial_padding(height, width)
        half = max(hidden // 2, 1)
        self.from_code = nn.Linear(code_dim, code_dim)
        self.deconvs = nn.Sequential(
            nn.ConvTranspose2d(hidden + code_dim, half, 3, padding=pad), _Residual(half, residual_relu), nn.ReLU(),
            nn.ConvTranspose2d(half, channels, 3, padding=pad), nn.ReLU(),
            nn.ConvTranspose2d(channels, channels, 1),
        )

    def forward(self, specific: Tensor, quantized: Tensor) -> Tensor:
        b, t, h, w, _ = specific.shape
        code = self.from_code(quantized)[:, :, None, None, :].expand(b, t, h, w, -1)
        x = torch.cat([code, specific], dim=-1).reshape(b * t, h, w, -1).permute(0, 3, 1, 2)
        out = self.deconvs(x).permute(0, 2, 3, 1)
        return out.reshape(b, t, *out.shape[1:])
