"""Scan at scale: the folder index (names, labels, sizes) and header checks on 10k / 100k / 300k files.

    python benchmarks/scan_scale.py [--sizes 10000 100000 300000] [--classes 100] [--root /tmp/...]
                                    [--headers 10000]

Generates folders of tiny distinct PNGs (kept under --root for later runs; about 4 KB of
disk per file), then, for each size, in a fresh process: the index from a warm page cache
(files/s, µs per file), the memory it holds per file, and a rescan of the unchanged folder
from the cached index; for sizes up to --headers also the full scan with header checks
(`scan_folder`, no scan cache). Goals (issue 17): index >= 50k files/s warm, per-file time
flat (±20 %) across sizes, <= 1 KB per file, rescan of an unchanged 100k folder < 1 s.
The last line is the ratio of the index rate on the largest folder to the 50k files/s goal.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
GOAL_RATE = 50_000


def generate(root: Path, count: int, classes: int) -> Path:
    """`count` distinct 8x8 PNGs in `classes` folders (reused when complete)."""
    import numpy as np
    from PIL import Image

    folder = root / f"{count}"
    marker = folder / ".complete"
    if marker.exists():
        return folder
    rng = np.random.default_rng(count)
    for index in range(count):
        label = index % classes
        target = folder / f"class_{label:03d}"
        if index < classes:
            target.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, "PNG", compress_level=1)
        (target / f"{index:07d}.png").write_bytes(buffer.getvalue())
    marker.write_text("ok")
    return folder


def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure_child(folder: str, headers: bool) -> None:
    """In a fresh process: warm the page cache, then time the index, its memory, a rescan and headers."""
    os.environ["CNNSTUDIO_CACHE_DIR"] = str(Path(folder).parent / f".cache-{Path(folder).name}")
    from cnnstudio.data.index import build_index, refresh_index

    build_index(folder)  # warm the page cache (directory entries and inodes)
    before = _rss()
    started = time.perf_counter()
    index = build_index(folder)
    seconds = time.perf_counter() - started
    held = _rss() - before
    refresh_index(folder)  # stores the index
    started = time.perf_counter()
    rescan = refresh_index(folder)
    rescan_seconds = time.perf_counter() - started
    result = {"files": len(index), "index_seconds": seconds, "bytes_per_file": held / max(len(index), 1),
              "rescan_seconds": rescan_seconds, "rescan_changed": int(len(rescan.changed))}
    if headers:
        from cnnstudio.data.scan import scan_folder

        started = time.perf_counter()
        scan_folder(folder, use_cache=False)
        result["headers_seconds"] = time.perf_counter() - started
    print(json.dumps(result))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        measure_child(sys.argv[2], sys.argv[3] == "1")
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 300_000])
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--root", default="/tmp/cnnstudio-scan-scale")
    parser.add_argument("--headers", type=int, default=10_000, help="full header scan up to this many files")
    args = parser.parse_args()
    rows = []
    for count in args.sizes:
        started = time.perf_counter()
        folder = generate(Path(args.root), count, args.classes)
        made = time.perf_counter() - started
        if made > 1:
            print(f"generated {count:,} files in {made:.0f} s", flush=True)
        output = subprocess.run([sys.executable, __file__, "--child", str(folder), "1" if count <= args.headers
                                 else "0"], capture_output=True, text=True, check=True, cwd=REPO).stdout
        row = json.loads(output.strip().splitlines()[-1])
        rows.append(row)
        headers = (f"{row['files'] / row['headers_seconds']:>9,.0f}/s" if "headers_seconds" in row else "      -    ")
        print(f"{row['files']:>8,} files: index {row['files'] / row['index_seconds']:>9,.0f} files/s "
              f"({1e6 * row['index_seconds'] / row['files']:.2f} µs/file), {row['bytes_per_file']:.0f} B/file held, "
              f"rescan unchanged {row['rescan_seconds']:.3f} s ({row['rescan_changed']} changed), "
              f"full header scan {headers}", flush=True)
    per_file = [row["index_seconds"] / row["files"] for row in rows]
    print(f"per-file index time spread: max/min {max(per_file) / min(per_file):.2f} (goal <= 1.2/0.8 = 1.5)")
    rate = rows[-1]["files"] / rows[-1]["index_seconds"]
    print(f"ratio index rate/goal at {rows[-1]['files']:,} files: {rate / GOAL_RATE:.2f}x "
          f"(goal >= 1.0, {GOAL_RATE:,} files/s) {'OK' if rate >= GOAL_RATE else 'BELOW GOAL'}")


if __name__ == "__main__":
    main()
