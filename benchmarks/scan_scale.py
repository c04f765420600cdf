"""Scan at scale: the folder index and the full scan (header checks) on 10k / 100k / 300k files.

    flock /tmp/cnn-cpu.lock python benchmarks/scan_scale.py [--sizes 10000 100000 300000]
                                    [--classes 100] [--root /tmp/cnn-scale] [--headers 300000]

Generates folders of tiny distinct PNGs under --root (kept for later runs, about 4 KB of disk
per file; other tools reuse them through `generate(root, count, classes)`), then, for each
size, warms the page cache in one process and measures in a fresh one:
- the index (names, labels, sizes: what training needs to start): files/s, µs per file (best
  of 3), and the memory it holds per file;
- the full scan as `cnnstudio scan` runs it (index, then header checks with a cold scan
  cache): files/s, the memory held afterwards per file (index + the ScanResult the caller
  keeps) and the peak during the scan, both as RSS growth over the process before the scan;
- a rescan of the unchanged folder (index from its cache, headers from the scan cache).
Goals (issue 17): index >= 50k files/s warm, per-file index time flat (±20 %) across sizes,
<= 1 KB per file for the whole scan, rescan of an unchanged 100k folder < 1 s.
The last line is the ratio of the index rate on the largest folder to the 50k files/s goal.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
GOAL_RATE = 50_000
GOAL_BYTES = 1024
GOAL_RESCAN = 1.0
DEFAULT_ROOT = Path("/tmp/cnn-scale")


def _png(pixels: bytes, width: int, height: int) -> bytes:
    """An 8-bit RGB PNG, written directly (Pillow takes ~20x longer per tiny file)."""
    stride = width * 3
    raw = b"".join(b"\0" + pixels[row * stride:(row + 1) * stride] for row in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))


def generate(root: Path, count: int, classes: int = 100) -> Path:
    """`root/<count>`: `count` distinct 8x8 PNGs in `classes` folders; made once, then reused.

    CPU-heavy for large counts: call it under the shared CPU lock. Safe to call from several
    processes: one generates (under root/.generate.lock, into a temporary folder renamed when
    complete), the others wait and reuse its folder.
    """
    import numpy as np

    root = Path(root)
    folder = root / f"{count}"
    if (folder / ".complete").exists():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".generate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (folder / ".complete").exists():
            return folder  # made by another process while this one waited
        for stale in root.glob(f".{count}.partial-*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a generation that was killed
        while folder.exists() and not (folder / ".complete").exists():
            # An incomplete folder: written in place right now by an older copy of this function
            # (wait for it), or left by one that was killed (remove it).
            newest = max((entry.stat().st_mtime for entry in os.scandir(folder)), default=0.0)
            if time.time() - newest > 60:
                shutil.rmtree(folder)
            else:
                time.sleep(5)
        if (folder / ".complete").exists():
            return folder
        partial = root / f".{count}.partial-{os.getpid()}"
        for label in range(classes):
            (partial / f"class_{label:03d}").mkdir(parents=True)
        rng = np.random.default_rng(count)
        chunk = 10_000
        for start in range(0, count, chunk):
            pixels = rng.integers(0, 256, (min(chunk, count - start), 8 * 8 * 3), dtype=np.uint8)
            for offset, row in enumerate(pixels):
                index = start + offset
                with open(partial / f"class_{index % classes:03d}" / f"{index:07d}.png", "wb") as handle:
                    handle.write(_png(row.tobytes(), 8, 8))
        (partial / ".complete").write_text("ok")
        os.rename(partial, folder)
    return folder


def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def warm_child(folder: str) -> None:
    from cnnstudio.data.index import build_index

    build_index(folder)  # directory entries and inodes into the page cache


def measure_child(folder: str, headers: bool) -> None:
    """In a fresh process: the index (time, memory), the full scan (time, memory held, peak), a rescan."""
    cache = Path(folder).parent / f".cache-{Path(folder).name}"
    shutil.rmtree(cache, ignore_errors=True)
    os.environ["CNNSTUDIO_CACHE_DIR"] = str(cache)
    import gc

    from PIL import Image

    from cnnstudio.data.index import build_index, refresh_index
    from cnnstudio.data.scan import scan_folder

    Image.init()  # the plugins load once per process: not memory per file
    before = _rss()
    started = time.perf_counter()
    index = build_index(folder)
    times = [time.perf_counter() - started]
    held = _rss() - before
    count = len(index)
    objects = (sys.getsizeof(index.paths) + sum(sys.getsizeof(p) for p in index.paths) + index.labels.nbytes
               + index.subsets.nbytes + index.sizes.nbytes + index.mtimes.nbytes)
    for _ in range(2):
        del index
        gc.collect()
        started = time.perf_counter()
        index = build_index(folder)
        times.append(time.perf_counter() - started)
    result = {"files": count, "index_seconds": min(times), "index_bytes": held / count,
              "index_object_bytes": objects / count}
    del index
    gc.collect()
    if headers:
        base = _rss()
        started = time.perf_counter()
        refresh = refresh_index(folder)  # what `cnnstudio scan` does: the index (stored), then headers
        scan = scan_folder(folder, index=refresh.index)
        result["scan_seconds"] = time.perf_counter() - started
        result["scan_bytes"] = (_rss() - base) / count
        result["scan_peak_bytes"] = (_peak_rss() - base) / count
        assert len(scan.images) == count, scan.to_json()["unreadable"][:3]
        del scan, refresh
        gc.collect()
    else:
        refresh_index(folder)  # stores the index for the rescan
    started = time.perf_counter()
    refresh = refresh_index(folder)
    result["rescan_index_seconds"] = time.perf_counter() - started
    result["rescan_changed"] = int(len(refresh.changed))
    if headers:
        scan_folder(folder, index=refresh.index)
    result["rescan_seconds"] = time.perf_counter() - started
    print(json.dumps(result))


def _child(*args: str) -> dict | None:
    output = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True,
                            cwd=REPO).stdout.strip()
    return json.loads(output.splitlines()[-1]) if output else None


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--warm":
        warm_child(sys.argv[2])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        measure_child(sys.argv[2], sys.argv[3] == "1")
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 300_000])
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--root", default=str(DEFAULT_ROOT))
    parser.add_argument("--headers", type=int, default=300_000, help="full scan up to this many files")
    args = parser.parse_args()
    rows = []
    for count in args.sizes:
        started = time.perf_counter()
        folder = generate(Path(args.root), count, args.classes)
        made = time.perf_counter() - started
        if made > 1:
            print(f"generated {count:,} files in {made:.0f} s", flush=True)
        _child("--warm", str(folder))
        row = _child("--child", str(folder), "1" if count <= args.headers else "0")
        rows.append(row)
        line = (f"{row['files']:>8,} files: index {row['files'] / row['index_seconds']:>8,.0f} files/s "
                f"({1e6 * row['index_seconds'] / row['files']:.2f} µs/file), {row['index_bytes']:.0f} B/file held "
                f"({row['index_object_bytes']:.0f} B/file in its objects)")
        if "scan_seconds" in row:
            line += (f"; full scan {row['files'] / row['scan_seconds']:>6,.0f} files/s, {row['scan_bytes']:.0f} "
                     f"B/file held, peak +{row['scan_peak_bytes']:.0f} B/file")
        line += (f"; rescan unchanged {row['rescan_seconds']:.3f} s (index {row['rescan_index_seconds']:.3f} s, "
                 f"{row['rescan_changed']} changed)")
        print(line, flush=True)
    per_file = [row["index_seconds"] / row["files"] for row in rows]
    spread = max(per_file) / min(per_file)
    print(f"per-file index time spread: max/min {spread:.2f} (goal <= 1.2/0.8 = 1.5) "
          f"{'OK' if spread <= 1.5 else 'ABOVE GOAL'}")
    worst = max(max(row.get("scan_peak_bytes", 0), row.get("scan_bytes", 0), row["index_bytes"]) for row in rows
                if row["files"] >= 100_000) if any(row["files"] >= 100_000 for row in rows) else None
    if worst is not None:
        print(f"memory per file (worst of held and peak, folders >= 100k): {worst:.0f} B "
              f"(goal <= {GOAL_BYTES}) {'OK' if worst <= GOAL_BYTES else 'ABOVE GOAL'}")
    for row in rows:
        if row["files"] == 100_000:
            print(f"rescan of the unchanged 100k folder: {row['rescan_seconds']:.3f} s (goal < {GOAL_RESCAN} s) "
                  f"{'OK' if row['rescan_seconds'] < GOAL_RESCAN else 'ABOVE GOAL'}")
    rate = rows[-1]["files"] / rows[-1]["index_seconds"]
    print(f"ratio index rate/goal at {rows[-1]['files']:,} files: {rate / GOAL_RATE:.2f}x "
          f"(goal >= 1.0, {GOAL_RATE:,} files/s) {'OK' if rate >= GOAL_RATE else 'BELOW GOAL'}")


if __name__ == "__main__":
    main()
