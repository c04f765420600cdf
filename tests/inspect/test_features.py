"""Feature maps and their statistics on a model whose answer is known, and the pure result types."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.errors import ExportError
from cnnstudio.inspect.projection import project_points
from cnnstudio.inspect.render import filter_grid, map_grid, pages
from cnnstudio.inspect.results import (
    Embedding,
    Filters,
    LayerMaps,
    load_layer_maps,
    save_layer_maps,
)


@pytest.fixture(scope="module")
def known_probe():
    """uint8 4x4 grey images -> 1x1 conv with kernels +1 and -1 (ReLU): channel 1 is dead on any image."""
    import keras

    from cnnstudio.inspect.probe import probe_from_model

    inputs = keras.Input((4, 4, 1), dtype="uint8", name="image")
    x = keras.layers.Rescaling(1.0 / 255.0)(inputs)
    x = keras.layers.Conv2D(2, 1, activation="relu", use_bias=False, name="split")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(2, activation="softmax", name="classifier")(x)
    model = keras.Model(inputs, outputs)
    model.get_layer("split").set_weights([np.array([1.0, -1.0], np.float32).reshape(1, 1, 1, 2)])
    return probe_from_model(model)


def test_maps_and_statistics_match_the_arithmetic(known_probe):
    from cnnstudio.inspect.features import feature_maps

    images = np.arange(10 * 16, dtype=np.uint8).reshape(10, 4, 4, 1) + 1  # positive pixels, 10 images
    (split, pool) = feature_maps(known_probe, images, ["split", "pool"], shown=7, chunk=3)
    assert split.shape == (4, 4, 2) and pool.shape == (2,)
    assert np.allclose(split.maps[..., 0], images[7, ..., 0] / 255.0, atol=1e-6)  # the shown image's maps
    assert np.allclose(split.channel_means, [images.mean() / 255.0, 0.0], atol=1e-6)  # over all 10 images
    assert split.channel_dead.tolist() == [False, True] and split.dead_fraction == 0.5
    assert split.batch_size == 10 and split.summary()["shape"] == [4, 4, 2]
    assert known_probe.conv_layer_names() == ["split"]
    with pytest.raises(ExportError, match="no layer named 'nope'.*split, pool, classifier"):
        feature_maps(known_probe, images, ["nope"])


def test_filters_of_convolutions_only(known_probe):
    from cnnstudio.inspect.features import filters

    kernels = filters(known_probe, "split")
    assert kernels.kernels.shape == (1, 1, 1, 2) and not kernels.rgb
    with pytest.raises(ExportError, match="convolutions only"):
        filters(known_probe, "classifier")


def test_results_round_trip_and_pictures(tmp_path):
    rng = np.random.default_rng(0)
    layer = LayerMaps("c", (6, 6, 70), rng.random((6, 6, 70), dtype=np.float32),
                      rng.random(70, dtype=np.float32), np.arange(70) % 7 == 0, 4)
    save_layer_maps(tmp_path / "m.npz", [layer])
    (back,) = load_layer_maps(tmp_path / "m.npz")
    assert back.name == "c" and back.shape == (6, 6, 70) and np.array_equal(back.maps, layer.maps)
    assert back.dead_fraction == pytest.approx(10 / 70)
    assert pages(70) == 2
    first, second = map_grid(layer, 0), map_grid(layer, 1)
    assert first.shape[0] > second.shape[0]  # 64 channels, then the remaining 6
    rgb = filter_grid(Filters("k", rng.random((3, 3, 3, 5), dtype=np.float32)))
    deep = filter_grid(Filters("k", rng.random((3, 3, 4, 2), dtype=np.float32)))
    assert rgb.ndim == deep.ndim == 3 and rgb.dtype == np.uint8
    embedding = Embedding("pca", "val", ["a.png", "b.png", "c.png"], np.array([0, 1, 1]), np.array([0, 0, 1]),
                          rng.random((3, 2), dtype=np.float32), ["x", "y"])
    embedding.save(tmp_path / "e.npz")
    again = Embedding.load(tmp_path / "e.npz")
    assert again.rows() == embedding.rows() and again.in_cell(1, 0).tolist() == [1]
    assert again.rows()[1] == {"image": "b.png", "true": "y", "predicted": "x", "x": pytest.approx(
        float(embedding.points[1, 0]), abs=1e-6), "y": pytest.approx(float(embedding.points[1, 1]), abs=1e-6)}


def test_projections():
    rng = np.random.default_rng(1)
    features = np.concatenate([rng.normal(0, 1, (20, 8)), rng.normal(6, 1, (20, 8))])
    points = project_points(features, "pca")
    assert points.shape == (40, 2) and points.dtype == np.float32
    assert np.array_equal(points, project_points(features[::-1], "pca")[::-1])  # deterministic sign
    assert abs(points[:20, 0].mean() - points[20:, 0].mean()) > 5  # the two clusters apart on axis 1
    tsne = project_points(features, "tsne")
    assert tsne.shape == (40, 2)
    apart = np.linalg.norm(tsne[:20].mean(axis=0) - tsne[20:].mean(axis=0))
    spread = max(tsne[:20].std(axis=0).max(), tsne[20:].std(axis=0).max())
    assert apart > 2 * spread
    with pytest.raises(ExportError, match="--method"):
        project_points(features, "mds")
    with pytest.raises(ExportError, match="at least 3"):
        project_points(features[:2], "pca")


def test_embedding_cache_follows_the_checkpoint(inspect_run, tmp_path):
    import os
    import shutil

    from cnnstudio.inspect.embedding import embed

    run = shutil.copytree(inspect_run, tmp_path / "run")
    first = embed(run, "pca", "val", "last")
    cache = run / "inspect" / "features-last-val.npz"
    assert cache.exists() and (run / "inspect" / "embedding-last-val-pca.npz").exists()
    stamp = cache.stat().st_mtime_ns
    assert np.array_equal(embed(run, "pca", "val", "last").points, first.points)
    assert cache.stat().st_mtime_ns == stamp  # reused
    checkpoint = run / "checkpoints" / "last.npz"
    os.utime(checkpoint, ns=(checkpoint.stat().st_atime_ns, checkpoint.stat().st_mtime_ns + 10**9))
    embed(run, "pca", "val", "last")
    assert cache.stat().st_mtime_ns != stamp  # a changed checkpoint: recomputed


def test_an_unavailable_method_is_refused_before_any_work(inspect_run, tmp_path):
    from cnnstudio.inspect.embedding import embed
    from cnnstudio.inspect.projection import available_methods

    if "umap" in available_methods():
        pytest.skip("umap-learn is installed here")
    with pytest.raises(ExportError, match="umap-learn"):
        embed(tmp_path / "not-even-a-run", "umap")  # refused before the source is opened
    with pytest.raises(ExportError, match="--split"):
        embed(inspect_run, "pca", "train")
