"""The window on a large folder: how soon the Data panel shows it, how long the event loop stalls
while the scan arrives, and how much memory the process holds.

    python benchmarks/gui_large_folder.py [--sizes 100000 300000] [--classes 100] [--root /tmp/cnn-scale]
                                          [--runs cold warm]

Folders come from benchmarks/scan_scale.py's generate() (tiny distinct PNGs, kept under --root).
For each size and run, in a fresh process: a main window (offscreen) shows the Data section and
is pointed at the folder; a 10 ms QTimer probe records the longest extra wait between ticks.
"cold": no index or scan cache (every header read); "warm": both cached from the cold run.
Printed per run: time to first display (the index: class table, chart, thumbnail grid), time to
the full scan result, time until the panel is idle (split and statistics previews done), worst
event-loop stall until the scan result is shown and until idle, RSS held after it (minus the
window's before) and the process's peak RSS. Goals (issue 17): no stall over 100 ms while the
scan arrives, the previews it starts included (split and statistics, from the panel's scan
result); < 1.5 GB at 300k files. Last line: worst stall from choosing the folder until the panel
is idle / 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
GOAL_STALL_S = 0.100
GOAL_RSS = 1.5 * 2**30


def _status(field: str) -> int:
    """A /proc/self/status size in bytes (VmRSS now, VmHWM the peak so far)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def child(folder: str, timeout_s: float) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_API", "pyside6")
    from bench_window import StallProbe, open_bench_window

    app, window = open_bench_window("Data", classes=100)
    panel = window.sections["Data"]
    for _ in range(50):
        app.processEvents()
    panel.wait_ready(60)
    before = _status("VmRSS")
    probe = StallProbe()
    probe.start()
    out: dict = {}
    started = time.perf_counter()
    panel.set_folder(folder)
    while time.perf_counter() - started < timeout_s:
        app.processEvents()
        now = time.perf_counter() - started
        if "index_s" not in out and panel.folder_summary is not None:
            out["index_s"] = now
            out["stall_to_index_ms"] = probe.worst * 1000
        if panel.scan is not None and "scan_s" not in out:
            out["scan_s"] = now
        if "scan_s" in out and "stall_scan_ms" not in out and now - out["scan_s"] > 0.5:
            out["stall_scan_ms"] = probe.worst * 1000  # the result shown, the grid laid out
            out["held_scan"] = _status("VmRSS") - before
        if "stall_scan_ms" in out and not panel.busy():
            out["idle_s"] = now
            break
        time.sleep(0.001)
    probe.stop()
    out["stall_idle_ms"] = probe.worst * 1000
    out["held"] = _status("VmRSS") - before
    out["peak"] = _status("VmHWM")
    out["before"] = before
    out["files"] = panel.folder_summary.listed if panel.folder_summary else 0
    out["thumbnails"] = panel.model.rowCount()
    out["classes"] = panel.class_table.model().rowCount()
    panel.shutdown()
    window.close()
    return out


def run_child(folder: Path, cache: Path, timeout_s: float) -> dict:
    env = {**os.environ, "CNNSTUDIO_CACHE_DIR": str(cache), "CNNSTUDIO_HOME": str(cache / "home"),
           "QT_QPA_PLATFORM": "offscreen", "CUDA_VISIBLE_DEVICES": "-1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, __file__, "--child", str(folder), "--timeout", str(timeout_s)],
                          env=env, capture_output=True, text=True, timeout=timeout_s + 120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        raise SystemExit(f"child failed on {folder}:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--root", type=Path, default=Path("/tmp/cnn-scale"))
    parser.add_argument("--runs", nargs="+", choices=("cold", "warm"), default=["cold", "warm"])
    parser.add_argument("--timeout", type=float, default=400.0, help="seconds per run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.timeout)))
        return 0
    from scan_scale import generate

    mb = 2**20
    worst = 0.0
    print(f"{'files':>8} {'run':>5} {'index s':>8} {'scan s':>7} {'idle s':>7} {'stall@index':>11} "
          f"{'stall@scan':>10} {'stall@idle':>10} {'held MB':>8} {'at scan MB':>10} {'peak MB':>8}")
    for size in args.sizes:
        folder = generate(args.root, size, args.classes)
        cache = args.root / f".cache-gui-{size}"
        for run in args.runs:
            if run == "cold":
                shutil.rmtree(cache, ignore_errors=True)  # ours only: no index, no scan cache
            r = run_child(folder, cache, args.timeout)
            if "scan_s" not in r:
                raise SystemExit(f"{size} {run}: no scan result within {args.timeout:.0f} s: {r}")
            worst = max(worst, r["stall_idle_ms"] / 1000)  # the probe's worst since the folder was chosen
            print(f"{r['files']:>8} {run:>5} {r['index_s']:>8.2f} {r['scan_s']:>7.1f} "
                  f"{r.get('idle_s', float('nan')):>7.1f} {r['stall_to_index_ms']:>9.0f}ms "
                  f"{r['stall_scan_ms']:>8.0f}ms {r['stall_idle_ms']:>8.0f}ms {r['held'] / mb:>8.0f} "
                  f"{r['held_scan'] / mb:>10.0f} {r['peak'] / mb:>8.0f}", flush=True)
            if r["peak"] > GOAL_RSS:
                print(f"  peak RSS {r['peak'] / mb:.0f} MB is over the {GOAL_RSS / mb:.0f} MB goal")
    print(f"goal: no event-loop stall over {GOAL_STALL_S * 1000:.0f} ms while the scan and its previews "
          f"arrive; peak RSS < {GOAL_RSS / 2**30:.1f} GB")
    print(f"ratio worst stall until idle / goal: {worst / GOAL_STALL_S:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
