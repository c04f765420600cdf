"""Render scikit-learn's bundled 8x8 digits as a small image folder: resources/sample/0..9.

    python resources/make_sample_dataset.py [--per-class 50] [--size 32]

Deterministic (the first N images of each class in the bundled order), so rerunning it
reproduces the committed files byte for byte. Origin and licence: see resources/README.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=50)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "sample")
    args = parser.parse_args(argv)

    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    digits = load_digits()
    counts = dict.fromkeys(range(10), 0)
    for image, label in zip(digits.images, digits.target, strict=True):
        label = int(label)
        if counts[label] >= args.per_class:
            continue
        counts[label] += 1
        folder = args.out / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        # 0..16 ink levels -> white digit on black, smoothly upscaled like a low-resolution scan.
        pixels = Image.fromarray(np.round(image * (255 / 16)).astype(np.uint8), "L")
        pixels.resize((args.size, args.size), Image.BICUBIC).save(folder / f"{label}_{counts[label]:03d}.png",
                                                                  optimize=True)
    print(f"wrote {sum(counts.values())} images to {args.out}")


if __name__ == "__main__":
    main()
