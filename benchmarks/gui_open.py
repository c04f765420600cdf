"""Window open time: a fresh process imports the app, builds the window on the sample
project and shows it (offscreen). Goal < 1.5 s, with TensorFlow never imported.

Runs the measurement 3 times in fresh processes (imports are the cost) and reports the median.
Last line: ratio of our time to the goal (below 1 meets it).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

GOAL_S = 1.5
ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import time
start = time.perf_counter()
import json, sys
from PySide6.QtWidgets import QApplication
from cnnstudio.gui.app import create_window
window = create_window(None)
window.ask_save = lambda: "discard"
window.show()
QApplication.processEvents()
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "tensorflow": "tensorflow" in sys.modules, "nodes": len(window.project.graph)}))
window.close()
"""


def measure() -> dict:
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_API="pyside6", CNNSTUDIO_HOME=home)
        # The interpreter's own start-up is counted too: it is part of what a user waits for.
        start = __import__("time").perf_counter()
        result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=120)
        total = __import__("time").perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"the window did not open:\n{result.stderr}")
    data = json.loads(result.stdout.strip().splitlines()[-1])
    data["process_seconds"] = total
    return data


def main() -> None:
    runs = [measure() for _ in range(3)]
    inside = statistics.median(r["seconds"] for r in runs)
    process = statistics.median(r["process_seconds"] for r in runs)
    tf_loaded = any(r["tensorflow"] for r in runs)
    print(f"project nodes: {runs[0]['nodes']}")
    print(f"import + window shown (in process): {inside:.2f} s")
    print(f"whole process incl. interpreter start and exit: {process:.2f} s")
    print(f"tensorflow imported: {tf_loaded}")
    print(f"goal < {GOAL_S} s: {'met' if inside < GOAL_S and not tf_loaded else 'MISSED'}")
    print(f"ratio ours/goal: {inside / GOAL_S:.2f}")


if __name__ == "__main__":
    main()
