"""Input pipeline speed: cnnstudio's build_dataset vs keras.utils.image_dataset_from_directory.

Generates a folder of JPEGs (10 classes, random sizes around the source size), then times one
full pass (first epoch: decode) and a later pass (cached for ours; Keras has no cache and
decodes again) for both, at the same image size and batch size. Our first epoch includes the
set-up a training run does before it (listing the folder through the scan, per-channel input
statistics), read from their caches as on every run after the first; the first run ever (scan
and statistics computed) is printed too. Keras's first epoch includes its own listing.
Best of interleaved rounds per side. The last line is the first-epoch ratio (ours / Keras
images per second, cached set-up).

    python benchmarks/input_pipeline.py [--images 5000] [--size 64] [--batch 32]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402


def make_folder(root: Path, count: int, source: int, seed: int = 0) -> list[tuple[str, int]]:
    rng = np.random.default_rng(seed)
    files = []
    yy, xx = np.mgrid[0:source, 0:source]
    for i in range(count):
        label = i % 10
        folder = root / f"class_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        # Smooth gradients plus noise compress like photos, unlike pure noise.
        base = (np.sin(xx / (3 + label) + i) * 60 + yy * 0.5 + 80)[..., None] + rng.normal(0, 12, (source, source, 3))
        array = np.clip(base, 0, 255).astype(np.uint8)
        side = int(source * rng.uniform(0.8, 1.25))
        path = folder / f"img_{i:05d}.jpg"
        Image.fromarray(array).resize((side, int(side * rng.uniform(0.75, 1.0)))).save(path, quality=90)
        files.append((str(path), label))
    return files


def rate(dataset, extra_seconds: float = 0.0) -> float:
    """Images per second of one pass; extra_seconds (building the dataset) counts as part of it."""
    start, count = time.perf_counter(), 0
    for images, _labels in dataset:
        count += int(images.shape[0])
    return count / (time.perf_counter() - start + extra_seconds)


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--size", type=int, default=64, help="training input size (square)")
    parser.add_argument("--source", type=int, default=160, help="typical source image side")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best of each side counts")
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    from cnnstudio.data import scan_folder
    from cnnstudio.data.pipeline import build_dataset
    from cnnstudio.data.statistics import compute_statistics

    with tempfile.TemporaryDirectory(prefix="cnnstudio-bench-") as tmp:
        os.environ["CNNSTUDIO_CACHE_DIR"] = str(Path(tmp) / "cache")  # cold caches, not the user's
        root = Path(tmp) / "images"
        t0 = time.perf_counter()
        files = make_folder(root, args.images, args.source)
        print(f"generated {len(files)} JPEGs (~{args.source}px) in {time.perf_counter() - t0:.1f}s; "
              f"input {args.size}x{args.size}x3, batch {args.batch}, {os.cpu_count()} CPUs, TF {tf.__version__}")
        shape = (args.size, args.size, 3)
        # Warm the OS file cache for both, so neither pays for the first disk read.
        for path, _label in files:
            Path(path).read_bytes()

        def set_up():
            """What a training run does before its first batch: list (scan) and input statistics."""
            start = time.perf_counter()
            scan_folder(root)
            compute_statistics(files, shape, normalization="per_channel", max_images=2000, seed=1)
            return time.perf_counter() - start

        cold = set_up()  # the first run ever: header checks, hashes, statistics decoded; cached after
        warm = min(set_up() for _ in range(3))
        print(f"set-up (scan + statistics): first run ever {cold:.2f}s, later runs (cached) {warm:.3f}s")

        def ours():
            set_up()
            return build_dataset(files, shape, args.batch, shuffle=True, seed=1, cache="memory")

        def theirs():
            return keras.utils.image_dataset_from_directory(
                root, image_size=(args.size, args.size), batch_size=args.batch, shuffle=True, seed=1,
                verbose=False).prefetch(tf.data.AUTOTUNE)

        # Alternate the two and keep each side's best run: the machine may be shared, and both
        # sides get the same chances. A fresh dataset per round makes every first epoch cold.
        results = {"cnnstudio": [0.0, 0.0], "keras": [0.0, 0.0]}
        for _round in range(args.rounds):
            for name, make in (("cnnstudio", ours), ("keras", theirs)):
                start = time.perf_counter()
                dataset = make()  # listing files and building the graph count in the first epoch
                first, later = rate(dataset, time.perf_counter() - start), rate(dataset)
                best = results[name]
                best[0], best[1] = max(best[0], first), max(best[1], later)
        for name, (first, later) in results.items():
            print(f"{name:10s} first epoch {first:8.0f} images/s   later epoch {later:8.0f} images/s")
        first_ratio = results["cnnstudio"][0] / results["keras"][0]
        later_ratio = results["cnnstudio"][1] / results["keras"][1]
        # The first run ever pays the uncached set-up once, in place of the cached one.
        ours_cold = len(files) / (len(files) / results["cnnstudio"][0] - warm + cold)
        print(f"first-epoch ratio, first run ever (uncached scan and statistics): "
              f"{ours_cold / results['keras'][0]:.2f}x")
        print(f"later-epoch ratio (cnnstudio / keras): {later_ratio:.2f}x")
        print(f"first-epoch ratio (cnnstudio incl. cached set-up / keras): {first_ratio:.2f}x")
        print(f"{first_ratio:.2f}")
        return first_ratio


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
