"""Statistics: whitening maths, limits, serialisation, previews."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.data import prepare_data, preview
from cnnstudio.data.statistics import Statistics, normalize, statistics_from_array
from cnnstudio.errors import ParameterError
from tests.data.test_split import make_project


def correlated_images(count=600, shape=(4, 4, 3), seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    features = int(np.prod(shape))
    mixing = rng.normal(size=(features, features))
    values = rng.normal(size=(count, features)) @ mixing  # strongly correlated pixels
    values = (values - values.min()) / (values.max() - values.min()) * 255
    return values.round().astype(np.uint8).reshape(count, *shape)


@pytest.mark.parametrize("mode", ["pca", "zca"])
def test_whitened_data_has_identity_covariance(mode):
    images = correlated_images()
    stats = statistics_from_array(images, normalization=mode, epsilon=1e-9)
    white = normalize(images, stats, mode).reshape(len(images), -1).astype(np.float64)
    covariance = white.T @ white / len(white)
    assert np.abs(covariance - np.eye(covariance.shape[0])).max() < 1e-3
    raw = (images.reshape(len(images), -1) / 255.0)
    assert np.abs(np.cov(raw.T, bias=True) - np.eye(raw.shape[1])).max() > 0.5  # it was not white before


def test_zca_stays_close_to_the_image_while_pca_rotates():
    images = correlated_images()
    stats = statistics_from_array(images, normalization="zca")
    zca_matrix, pca_matrix = stats.whitening_matrix("zca"), stats.whitening_matrix("pca")
    assert np.allclose(zca_matrix, zca_matrix.T, atol=1e-8)  # ZCA: symmetric U diag Uᵀ
    assert np.allclose(pca_matrix, stats.eigenvectors / np.sqrt(stats.eigenvalues + stats.epsilon))


def test_channel_statistics():
    images = np.zeros((2, 3, 3, 3), dtype=np.uint8)
    images[0, ..., 0] = 255
    stats = statistics_from_array(images)
    assert np.allclose(stats.channel_mean, [0.5, 0, 0])
    assert np.allclose(stats.channel_std[0], 0.5)
    assert stats.channel_std[1] > 0  # constant channels do not divide by zero
    assert np.allclose(normalize(images, stats, "per_channel")[0, 0, 0, 0], 1.0)
    assert np.allclose(normalize(images, stats, "mean_image")[1, ..., 0], -0.5)


def test_whitening_too_many_features_is_a_clear_error():
    with pytest.raises(ParameterError, match=r"64×64×3 .*limited to 4096 features.*per_channel"):
        statistics_from_array(np.zeros((2, 64, 64, 3), dtype=np.uint8), normalization="zca")


def test_round_trips(tmp_path):
    stats = statistics_from_array(correlated_images(count=50, shape=(2, 2, 3)), normalization="pca")
    again = Statistics.from_dict(json.loads(json.dumps(stats.to_dict())))
    assert again.whitening == "pca" and again.image_shape == (2, 2, 3)
    assert np.allclose(again.whitening_matrix(), stats.whitening_matrix(), atol=1e-3)
    stats.save(str(tmp_path / "stats.npz"))
    loaded = Statistics.load(str(tmp_path / "stats.npz"))
    assert np.allclose(loaded.mean_image, stats.mean_image) and loaded.count == 50


def test_statistics_from_the_training_split_and_previews(make_folder):
    root = make_folder({"a": 8, "b": 8}, size=(6, 6))
    project = make_project(root, height=4, width=4, validation_fraction=0.25)
    project.preprocessing["normalization"] = "zca"
    data = prepare_data(project)
    stats = data.statistics(max_images=10)
    assert stats.count == 10 and stats.whitening == "zca"
    assert data.statistics(max_images=10) is stats  # computed once
    mean = preview.mean_image(stats)
    assert mean.shape == (4, 4, 3) and mean.dtype == np.uint8
    sample = np.full((4, 4, 3), 90, dtype=np.uint8)
    for out in (preview.normalized_sample(sample, stats, "per_channel"), preview.whitened_sample(sample, stats)):
        assert out.shape == (4, 4, 3) and out.dtype == np.uint8


def sample_digits() -> np.ndarray:
    from pathlib import Path

    from cnnstudio.data import formats

    root = Path(__file__).resolve().parents[2] / "resources" / "sample"
    paths = sorted(p for d in range(10) for p in (root / str(d)).glob("*.png"))
    return np.stack([formats.load_image(str(p), (32, 32, 1), "stretch") for p in paths])


def test_whitening_epsilon_is_chosen_from_the_spectrum_and_keeps_the_digit():
    images = sample_digits()
    auto = statistics_from_array(images, normalization="zca")  # ε left to the data
    assert auto.epsilon == pytest.approx(0.1 * auto.eigenvalues.mean())
    assert np.all(np.diff(auto.eigenvalues) <= 1e-12) and auto.eigenvalues.min() >= 0  # sorted, no -0 noise
    tiny = statistics_from_array(images, normalization="zca", epsilon=1e-5)  # the old default
    assert any("tiny next to the mean eigenvalue" in w for w in tiny.warnings)
    assert not any("tiny" in w for w in auto.warnings)

    def agreement(stats) -> float:
        """How much of the digit a whitened image keeps (correlation with the original)."""
        white = normalize(images[:50], stats, "zca")
        return float(np.mean([np.corrcoef(white[i].ravel(), images[i].ravel())[0, 1] for i in range(50)]))

    assert agreement(auto) > 0.35 > 0.25 > agreement(tiny)  # an edge-enhanced digit, not noise
    shown = preview.whitened_sample(images[0], auto, "zca")
    assert shown.dtype == np.uint8 and shown.std() > 20  # not a flat grey square
    assert preview.normalized_sample(images[0], auto, "zca").tolist() == shown.tolist()  # one function


def test_fewer_images_than_features_is_said():
    images = sample_digits()[:100]  # 100 images of 32×32 = 1024 values
    stats = statistics_from_array(images, normalization="pca")
    assert any("100 images, not more than the 1024 values per image" in w for w in stats.warnings)
    enough = statistics_from_array(correlated_images(count=200, shape=(4, 4, 3)), normalization="pca")
    assert enough.warnings == []


def test_statistics_are_kept_for_the_next_run_until_a_file_or_setting_changes(make_folder, monkeypatch, private_cache):
    from cnnstudio.data import formats
    from cnnstudio.data.statistics import compute_statistics
    from tests.data.helpers import save_image

    root = make_folder({"a": 5, "b": 5}, size=(6, 6))
    files = [(str(p), 0) for p in sorted(root.rglob("*.png"))]
    decoded: list[str] = []
    original = formats.load_image
    monkeypatch.setattr(formats, "load_image", lambda path, *a, **k: decoded.append(path) or original(path, *a, **k))
    first = compute_statistics(files, (4, 4, 3), normalization="zca", max_images=8, epsilon=0.01)
    assert len(decoded) == 8 and list((private_cache / "statistics").glob("*.npz"))
    decoded.clear()
    again = compute_statistics(files, (4, 4, 3), normalization="zca", max_images=8, epsilon=0.01)
    assert decoded == []  # read from the cache
    for name in ("channel_mean", "channel_std", "mean_image", "eigenvectors", "eigenvalues"):
        assert np.array_equal(getattr(again, name), getattr(first, name))
    assert again.warnings == first.warnings and again.warnings  # 8 images < 48 features: said again
    compute_statistics(files, (4, 4, 3), normalization="per_channel", max_images=8)
    assert len(decoded) == 8  # another setting: computed
    decoded.clear()
    save_image(root / "a" / "a_000.png", size=(6, 6), seed=77)  # a sampled file changes
    changed = compute_statistics(files, (4, 4, 3), normalization="zca", max_images=8, epsilon=0.01)
    assert len(decoded) == 8 and not np.array_equal(changed.mean_image, first.mean_image)
