"""DESIGN.md rules 1-2: the pure core imports neither Qt nor TensorFlow/Keras."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

PURE = ["cnnstudio.graph", "cnnstudio.project", "cnnstudio.zoo", "cnnstudio.training.events", "cnnstudio.cli"]
HEAVY = ("tensorflow", "keras", "PySide6", "pyqtgraph", "superqt", "qtpy")


def test_pure_modules_import_no_qt_and_no_tensorflow():
    code = (
        "import importlib, sys\n"
        f"for name in {PURE!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ModuleNotFoundError as exc:\n"
        "        if exc.name != name: raise\n"
        "from cnnstudio.graph import catalogue; catalogue.layer_types()\n"
        "from cnnstudio.cli import build_parser; build_parser()\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_only_gui_imports_qt():
    root = pathlib.Path(__file__).resolve().parents[1] / "cnnstudio"
    pattern = re.compile(r"^\s*(import|from)\s+(PySide6|shiboken6|qtpy|superqt|pyqtgraph)\b", re.M)
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "gui" not in path.relative_to(root).parts[:1] and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_pure_packages_have_no_module_level_tensorflow():
    root = pathlib.Path(__file__).resolve().parents[1] / "cnnstudio"
    pattern = re.compile(r"^(import|from)\s+(tensorflow|keras)\b", re.M)
    offenders = []
    for package in ("graph", "zoo", "project", "commands"):
        for path in (root / package).rglob("*.py"):
            if pattern.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(root)))
    events = root / "training" / "events.py"
    if events.exists() and pattern.search(events.read_text(encoding="utf-8")):
        offenders.append("training/events.py")
    assert offenders == []
