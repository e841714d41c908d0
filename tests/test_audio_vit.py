import pytest
import torch
from transformers import CLIPVisionConfig, CLIPVisionModel, CLIPVisionModelWithProjection

from avtbench_plugins.methods.vip_ant.audio_vit import AudioViT, audio_vit_from_clip_vision, grid_shape, interpolate_positions
from avtbench_plugins.methods.vip_ant.constants import CLIP_FRAMES, MEL_BINS, PATCH_STRIDE

FRAMES, MELS = 96, 64

pytestmark = pytest.mark.usefixtures("one_thread")


def _config(image_size: int = 64) -> CLIPVisionConfig:
    return CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                            image_size=image_size, patch_size=32, projection_dim=16)


@pytest.fixture
def tower() -> CLIPVisionModel:
    torch.manual_seed(0)
    return CLIPVisionModel(_config()).eval()


@pytest.fixture
def audio(tower) -> AudioViT:
    return audio_vit_from_clip_vision(tower, FRAMES, MELS).eval()


def test_vipant_defaults():
    assert PATCH_STRIDE == (16, 24) and CLIP_FRAMES == 1000 and MEL_BINS == 128
    assert grid_shape(CLIP_FRAMES, MEL_BINS) == (61, 5)


@pytest.mark.parametrize("frames, mels, kernel, stride, expected", [
    (1000, 128, 32, (16, 24), (61, 5)),
    (1000, 128, 32, 16, (61, 7)),
    (1024, 128, 16, 16, (64, 8)),
    (32, 32, 32, (16, 24), (1, 1)),
])
def test_grid_shape(frames, mels, kernel, stride, expected):
    assert grid_shape(frames, mels, kernel, stride) == expected


def test_grid_shape_rejects_fbank_smaller_than_kernel():
    with pytest.raises(ValueError):
        grid_shape(31, 128)


def test_patch_kernel_is_exact_rgb_mean(tower, audio):
    image_kernel = tower.embeddings.patch_embedding.weight
    assert audio.patch_embedding.weight.shape == (32, 1, 32, 32)
    assert torch.equal(audio.patch_embedding.weight, image_kernel.mean(dim=1, keepdim=True))
    assert audio.kernel == (32, 32) and audio.stride == PATCH_STRIDE


@pytest.mark.parametrize("frames, mels, stride", [(96, 64, (16, 24)), (200, 128, (16, 24)), (128, 96, 32)])
def test_position_grid_matches_grid_shape(tower, frames, mels, stride):
    model = audio_vit_from_clip_vision(tower, frames, mels, stride=stride)
    t, f = grid_shape(frames, mels, 32, stride)
    assert model.grid == (t, f)
    assert model.position_embedding.shape == (1 + t * f, 32)
    assert torch.equal(model.position_embedding[0], tower.embeddings.position_embedding.weight[0])


def test_interpolation_is_identity_on_the_image_grid(tower):
    image_positions = tower.embeddings.position_embedding.weight.detach()
    assert torch.equal(interpolate_positions(image_positions, (2, 2)), image_positions)
    model = audio_vit_from_clip_vision(tower, 64, 64, stride=32)
    assert torch.equal(model.position_embedding.detach(), image_positions)


def test_interpolation_keeps_a_constant_grid_constant():
    positions = torch.cat([torch.zeros(1, 4), torch.ones(9, 4) * 3.0])
    resized = interpolate_positions(positions, (7, 2))
    assert resized.shape == (15, 4)
    assert torch.equal(resized[0], torch.zeros(4)) and torch.allclose(resized[1:], torch.full((14, 4), 3.0))


def test_weights_are_copies_of_the_tower(tower, audio):
    tower_layer = dict(tower.encoder.layers[1].named_parameters())
    for name, param in audio.encoder.layers[1].named_parameters():
        assert torch.equal(param, tower_layer[name]), name
        assert param.data_ptr() != tower_layer[name].data_ptr(), name
    assert torch.equal(audio.class_embedding, tower.embeddings.class_embedding)
    assert torch.equal(audio.pre_layernorm.weight, tower.pre_layrnorm.weight)
    assert torch.equal(audio.post_layernorm.bias, tower.post_layernorm.bias)


def test_same_grid_reproduces_the_image_tower(tower):
    """Mean kernel on x equals the RGB kernel on x/3 in each channel, so both towers must agree."""
    model = audio_vit_from_clip_vision(tower, 64, 64, stride=32).eval()
    fbank = torch.randn(3, 64, 64)
    with torch.no_grad():
        expected = tower(pixel_values=fbank.unsqueeze(1).expand(-1, 3, -1, -1) / 3).pooler_output
        torch.testing.assert_close(model(fbank), expected, atol=1e-5, rtol=1e-5)


def test_forward_shapes(audio):
    fbank = torch.randn(2, FRAMES, MELS)
    assert audio(fbank).shape == (2, 32)
    embedding, tokens = audio(fbank, return_patch_tokens=True)
    assert embedding.shape == (2, 32)
    assert tokens.shape == (2, *grid_shape(FRAMES, MELS), 32)


def test_projection_is_copied_and_applied():
    torch.manual_seed(0)
    tower = CLIPVisionModelWithProjection(_config()).eval()
    model = audio_vit_from_clip_vision(tower, FRAMES, MELS).eval()
    assert model.output_dim == 16
    assert torch.equal(model.projection.weight, tower.visual_projection.weight)
    fbank = torch.randn(2, FRAMES, MELS)
    with torch.no_grad():
        _, tokens = model(fbank, return_patch_tokens=True)
        assert model(fbank).shape == (2, 16)
    assert tokens.shape[-1] == 32


def test_gradients_reach_every_new_weight_but_not_the_tower(tower, audio):
    audio.train()
    embedding, tokens = audio(torch.randn(2, FRAMES, MELS), return_patch_tokens=True)
    (embedding.pow(2).sum() + tokens.pow(2).sum()).backward()
    for name, param in audio.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert all(param.grad is None for param in tower.parameters())


def test_rejects_a_mis_sized_fbank(audio):
    with pytest.raises(ValueError, match="pad_or_crop"):
        audio(torch.randn(2, FRAMES + 1, MELS))
