"""Inspection speed: feature maps of a ResNet-50, t-SNE of 2,000 points, histogram logging cost.

    python benchmarks/inspect_speed.py [--part maps|tsne|histograms|all] [--points 2000]

- maps: every convolution's output of a ResNet-50 (random weights, loaded from a .keras file)
  for one 224x224 image, after the source is open: the first request (builds the multi-output
  model) and a repeated one (cached), against a hand-built keras.Model of the same outputs.
  Goal < 1.5 s on 2 CPU cores.
- tsne: 2,000 points of 512-D clustered features through ours (openTSNE) and scikit-learn's
  TSNE (the reference). Goal < 15 s.
- histograms: the training engine's throughput with histogram logging on and off (same model
  and data as benchmarks/train_throughput.py); goal: on >= 0.97 x off.
Each part prints wall and process CPU time (a shared machine inflates wall time); the last
line is the worst ratio goal/measured over the parts run (>= 1 means every goal is met).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

MAPS_GOAL, TSNE_GOAL, HISTOGRAM_GOAL = 1.5, 15.0, 0.97


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(function):
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = function()
    return result, time.perf_counter() - wall, cpu_seconds() - cpu


def maps() -> float:
    import keras

    from cnnstudio.inspect.features import feature_maps
    from cnnstudio.inspect.probe import open_probe

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "resnet50.keras"
        keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3), classes=10).save(path)
        probe, load_wall, _ = timed(lambda: open_probe(path))
    image = np.random.default_rng(0).integers(0, 256, (1, 224, 224, 3), dtype=np.uint8)
    names = probe.conv_layer_names()
    layers, first, first_cpu = timed(lambda: feature_maps(probe, image))
    _, cached, cached_cpu = timed(lambda: feature_maps(probe, image))
    reference_model = keras.Model(probe.network.inputs[0], [probe.layer(n).output for n in names])
    reference_model(image.astype(np.float32), training=False)  # build/warm like ours
    _, reference, _ = timed(lambda: [np.asarray(v) for v in reference_model(image.astype(np.float32), training=False)])
    print(f"ResNet-50: {len(layers)} conv layers; load {load_wall:.2f}s; first request {first:.2f}s "
          f"(cpu {first_cpu:.2f}s), cached {cached:.2f}s (cpu {cached_cpu:.2f}s); "
          f"plain keras.Model of the same outputs {reference:.2f}s")
    return MAPS_GOAL / max(first, 1e-9)


def tsne(points: int) -> float:
    from sklearn.manifold import TSNE

    from cnnstudio.inspect.projection import _reduced, project_points

    rng = np.random.default_rng(0)
    centres = rng.normal(0, 4, (10, 512))
    features = centres[rng.integers(0, 10, points)] + rng.normal(0, 1, (points, 512))
    _, ours, ours_cpu = timed(lambda: project_points(features, "tsne"))
    _, reference, reference_cpu = timed(
        lambda: TSNE(2, init="pca", random_state=0, perplexity=30).fit_transform(_reduced(features)))
    print(f"t-SNE {points} points: openTSNE {ours:.2f}s (cpu {ours_cpu:.2f}s); scikit-learn TSNE "
          f"{reference:.2f}s (cpu {reference_cpu:.2f}s); ours {reference / ours:.2f}x faster")
    return TSNE_GOAL / max(ours, 1e-9)


def histograms(images: int, epochs: int) -> float:
    from benchmarks.train_throughput import make_data, make_project, ours

    data = make_data(images)
    on, off = 0.0, 0.0
    for _ in range(2):  # alternate so a noisy neighbour hurts both alike
        project = make_project(64, 1)
        project.training["histograms"] = False
        off = max(off, ours(project, data, epochs))
        on = max(on, ours(make_project(64, 1), data, epochs))
    print(f"training throughput: histograms off {off:,.0f} images/s, on {on:,.0f} images/s "
          f"(ratio {on / off:.3f}, goal >= {HISTOGRAM_GOAL})")
    return (on / off) / HISTOGRAM_GOAL


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("maps", "tsne", "histograms", "all"), default="all")
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--images", type=int, default=4096, help="training images per epoch (histograms)")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs (histograms)")
    args = parser.parse_args()
    ratios = []
    if args.part in ("maps", "all"):
        ratios.append(maps())
    if args.part in ("tsne", "all"):
        ratios.append(tsne(args.points))
    if args.part in ("histograms", "all"):
        ratios.append(histograms(args.images, args.epochs))
    worst = min(ratios)
    print(f"ratio goal/measured (worst part): {worst:.2f}x {'OK' if worst >= 1 else 'BELOW GOAL'}")


if __name__ == "__main__":
    main()
