import math

import numpy as np
import pytest
import torch

from avtbench.audio import fbank as fb

SR = 16000
LOG_EPS = math.log(float(np.finfo(np.float32).eps))


def _torchaudio_imports() -> bool:
    try:
        import torchaudio.compliance.kaldi  # noqa: F401
    except Exception:
        return False
    return True


HAS_TORCHAUDIO = _torchaudio_imports()
AVAILABLE = ["transformers"] + (["torchaudio"] if HAS_TORCHAUDIO else [])


def _sine(freq: float, seconds: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _noise(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(int(seconds * SR))).astype(np.float32)


def _direct_kaldi(waveform: np.ndarray, num_mel_bins: int = 128) -> torch.Tensor:
    """Kaldi's FBANK written out from its definition (Hann window, 25/10 ms, 512-point FFT, 20 Hz..Nyquist)."""
    x = torch.as_tensor(waveform, dtype=torch.float64)
    frames = x.unfold(0, 400, 160)
    frames = frames - frames.mean(dim=1, keepdim=True)
    previous = torch.cat([frames[:, :1], frames[:, :-1]], dim=1)
    frames = (frames - 0.97 * previous) * torch.hann_window(400, periodic=False, dtype=torch.float64)
    power = torch.fft.rfft(frames, n=512).abs() ** 2
    mel = lambda hz: 1127.0 * torch.log1p(torch.as_tensor(hz, dtype=torch.float64) / 700.0)  # noqa: E731
    fft_mels = mel(torch.arange(257, dtype=torch.float64) * SR / 512)[:, None]
    edges = torch.linspace(float(mel(20.0)), float(mel(SR / 2)), num_mel_bins + 2, dtype=torch.float64)
    left, centre, right = edges[:-2], edges[1:-1], edges[2:]
    bank = torch.minimum((fft_mels - left) / (centre - left), (right - fft_mels) / (right - centre)).clamp(min=0)
    return (power @ bank).clamp(min=math.exp(LOG_EPS)).log()


def test_one_second_at_16k_gives_98_kaldi_frames():
    out = fb.fbank(_noise())
    assert out.shape == (98, 128)
    assert out.dtype == torch.float32
    assert fb.expected_frames(SR) == 98
    assert fb.fbank(_noise(10.0)).shape == (fb.expected_frames(10 * SR), 128) == (998, 128)


def test_shorter_than_one_frame_gives_no_frames():
    assert fb.fbank(np.zeros(399, dtype=np.float32)).shape == (0, 128)
    assert fb.fbank(np.zeros(400, dtype=np.float32)).shape == (1, 128)


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("freq", [1000.0, 2500.0, 5000.0])
def test_sine_peaks_in_its_mel_bin(backend, freq):
    spectrum = fb.fbank(_sine(freq), backend=backend).mean(dim=0)
    nearest_centre = int(np.abs(fb.kaldi_mel_centers() - freq).argmin())
    assert abs(int(spectrum.argmax()) - nearest_centre) <= 1


def test_doubling_amplitude_adds_log_four():
    quiet, loud = fb.fbank(_noise()), fb.fbank(2 * _noise())
    above_floor = quiet > LOG_EPS + 1
    assert above_floor.float().mean() > 0.9
    torch.testing.assert_close(loud[above_floor] - quiet[above_floor],
                               torch.full_like(quiet[above_floor], math.log(4.0)), atol=1e-4, rtol=0)


def test_transformers_backend_matches_kaldi_definition():
    waveform = _noise(seed=3) + _sine(1234.0, amplitude=0.2)
    ours = fb.fbank(waveform, backend="transformers").double()
    torch.testing.assert_close(ours, _direct_kaldi(waveform), atol=1e-4, rtol=1e-5)


@pytest.mark.skipif(not HAS_TORCHAUDIO, reason="`import torchaudio` fails here")
def test_backends_agree():
    waveform = _noise(seed=4) + _sine(777.0, amplitude=0.3)
    a = fb.fbank(waveform, backend="torchaudio")
    b = fb.fbank(waveform, backend="transformers")
    assert a.shape == b.shape
    floor_a, floor_b = a <= LOG_EPS + 1e-3, b <= LOG_EPS + 1e-3
    assert torch.equal(floor_a, floor_b)
    torch.testing.assert_close(a[~floor_a], b[~floor_b], atol=1e-3, rtol=1e-4)


def test_transformers_backend_is_deterministic_and_input_type_blind():
    waveform = _noise(seed=5)
    first = fb.fbank(waveform, backend="transformers")
    assert torch.equal(first, fb.fbank(waveform, backend="transformers"))
    assert torch.equal(first, fb.fbank(torch.from_numpy(waveform)[None], backend="transformers"))


def test_backend_reports_what_imports():
    assert fb.backend() == ("torchaudio" if HAS_TORCHAUDIO else "transformers")


def test_bad_backend_and_shapes_are_rejected():
    with pytest.raises(ValueError, match="backend"):
        fb.fbank(_noise(), backend="librosa")
    with pytest.raises(ValueError, match="mono"):
        fb.fbank(np.zeros((2, SR), dtype=np.float32))
    with pytest.raises(ValueError, match="window"):
        fb.fbank(_noise(), window="kaiser")


@pytest.mark.skipif(HAS_TORCHAUDIO, reason="torchaudio imports here")
def test_forcing_missing_torchaudio_raises():
    with pytest.raises(ImportError):
        fb.fbank(_noise(), backend="torchaudio")


def test_subtract_waveform_mean():
    waveform = _noise(seed=6) + 0.25
    torch.testing.assert_close(fb.fbank(waveform, subtract_waveform_mean=True),
                               fb.fbank(waveform - waveform.mean()), atol=1e-5, rtol=0)


def test_normalize_is_mean_over_scaled_std():
    x = torch.tensor([[-4.0, 0.0], [-10.0, 3.0]])
    torch.testing.assert_close(fb.normalize(x, 1.0, 2.0), (x - 1.0) / 2.0)
    torch.testing.assert_close(fb.normalize(x, -4.0, 3.0, std_scale=2.0), (x + 4.0) / 6.0)
    assert fb.normalize(x, -4.0, 3.0)[0, 0] == 0


@pytest.mark.parametrize("backend", AVAILABLE)
def test_batched_fbank_matches_fbank_per_waveform(backend):
    waveforms = torch.from_numpy(np.stack([_noise(seed=7) + 0.1, _sine(440.0), _noise(seed=8) * 0.01]))
    for subtract in (False, True):
        batch = fb.fbank_batch(waveforms, subtract_waveform_mean=subtract)
        single = torch.stack([fb.fbank(w, subtract_waveform_mean=subtract, backend=backend) for w in waveforms])
        assert batch.shape == single.shape == (3, 98, 128)
        above_floor = single > LOG_EPS + 1
        torch.testing.assert_close(batch[above_floor], single[above_floor], atol=2e-3, rtol=1e-4)
    assert fb.fbank_batch(waveforms, num_mel_bins=64, window="hamming").shape == (3, 98, 64)
    assert fb.fbank_batch(waveforms[:, :399]).shape == (3, 0, 128)
    with pytest.raises(ValueError, match="waveforms"):
        fb.fbank_batch(waveforms[0])
    with pytest.raises(ValueError, match="window"):
        fb.fbank_batch(waveforms, window="kaiser")


def test_pad_or_crop():
    x = torch.arange(12.0).reshape(3, 4)
    padded = fb.pad_or_crop(x, 5)
    assert padded.shape == (5, 4)
    assert torch.equal(padded[:3], x) and torch.equal(padded[3:], torch.zeros(2, 4))
    assert torch.equal(fb.pad_or_crop(x, 2), x[:2])
    assert torch.equal(fb.pad_or_crop(x, 3), x)
    assert fb.pad_or_crop(x.expand(2, 3, 4), 6).shape == (2, 6, 4)
    assert torch.equal(fb.pad_or_crop(x, 4, value=-1.0)[3], torch.full((4,), -1.0))
