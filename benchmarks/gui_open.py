"""Window open time: a fresh process imports the app, builds the window on the sample
project and shows it (offscreen). Goals: window shown < 1.0 s in process, the whole
`cnnstudio gui --screenshot` process < 1.5 s, TensorFlow never imported, only the first
section built. Exits 1 (and says MISSED) when a goal is missed, so a regression is loud.

Runs each measurement 3 times in fresh processes (imports are the cost) and reports the
median, with the CPU time beside the wall time: on a shared, loaded machine the wall time
grows with the load while the CPU time says what the code costs.
Last line: ratio of our in-process time to its goal (below 1 meets it).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_IN_PROCESS_S = 1.0
GOAL_SCREENSHOT_S = 1.5
ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import time
start = time.perf_counter()
cpu = time.process_time()
import json, sys
from PySide6.QtWidgets import QApplication
from cnnstudio.gui.app import create_window
window = create_window(None)
window.ask_save = lambda: "discard"
window.show()
QApplication.processEvents()
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "cpu": time.process_time() - cpu, "tensorflow": "tensorflow" in sys.modules,
                  "pyqtgraph": "pyqtgraph" in sys.modules, "built": sorted(window.sections.built),
                  "nodes": len(window.project.graph)}))
window.close()
"""


def _env(home: str) -> dict[str, str]:
    return dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_API="pyside6", CNNSTUDIO_HOME=home)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure_in_process() -> dict:
    with tempfile.TemporaryDirectory() as home:
        result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=_env(home), capture_output=True,
                                text=True, timeout=120)
    if result.returncode != 0:
        raise SystemExit(f"the window did not open:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure_screenshot() -> tuple[float, float]:
    """`cnnstudio gui --screenshot` as a user runs it: interpreter start to exit (wall, CPU)."""
    with tempfile.TemporaryDirectory() as home:
        out = Path(home) / "shot.png"
        cpu = _children_cpu()
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "cnnstudio", "gui", "--screenshot", str(out)], cwd=ROOT,
                                env=_env(home), capture_output=True, text=True, timeout=120)
        wall = time.perf_counter() - start
        cpu = _children_cpu() - cpu
        if result.returncode != 0 or not out.exists():
            raise SystemExit(f"the screenshot failed:\n{result.stderr}")
    return wall, cpu


def main() -> int:
    runs = [measure_in_process() for _ in range(3)]
    shots = [measure_screenshot() for _ in range(3)]
    inside = statistics.median(r["seconds"] for r in runs)
    inside_cpu = statistics.median(r["cpu"] for r in runs)
    shot = statistics.median(s[0] for s in shots)
    shot_cpu = statistics.median(s[1] for s in shots)
    tf_loaded = any(r["tensorflow"] for r in runs)
    built = runs[0]["built"]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"project nodes: {runs[0]['nodes']}; load average {load:.1f} on {os.cpu_count()} CPUs")
    print(f"import + window shown (in process): {inside:.2f} s wall, {inside_cpu:.2f} s CPU "
          f"(goal < {GOAL_IN_PROCESS_S} s)")
    print(f"cnnstudio gui --screenshot (whole process): {shot:.2f} s wall, {shot_cpu:.2f} s CPU "
          f"(goal < {GOAL_SCREENSHOT_S} s)")
    print(f"tensorflow imported: {tf_loaded}; pyqtgraph imported: {any(r['pyqtgraph'] for r in runs)}; "
          f"sections built at start: {', '.join(built)}")
    missed = []
    if inside >= GOAL_IN_PROCESS_S:
        missed.append("window shown in process")
    if shot >= GOAL_SCREENSHOT_S:
        missed.append("screenshot process")
    if tf_loaded:
        missed.append("TensorFlow was imported")
    if len(built) > 1:
        missed.append("more than the first section was built")
    print("goals: " + ("met" if not missed else "MISSED (" + "; ".join(missed) + ")"))
    print(f"ratio ours/goal: {inside / GOAL_IN_PROCESS_S:.2f}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
