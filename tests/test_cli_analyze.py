from __future__ import annotations

import json
import subprocess
import sys

from cnnstudio.cli import main
from cnnstudio.project import Project, save_project
from tests.graph.test_analysis import lenet


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnnstudio", *args], capture_output=True, text=True, timeout=120)


def test_analyze_table_and_json(tmp_path):
    path = save_project(Project(lenet(), name="LeNet"), tmp_path / "lenet.cnnproj")
    out = run_cli("analyze", str(path))
    assert out.returncode == 0, out.stderr
    assert "conv1" in out.stdout and "28×28×6" in out.stdout and "Total params: 61,706" in out.stdout
    out = run_cli("analyze", str(path), "--json")
    assert out.returncode == 0
    data = json.loads(out.stdout)
    assert data["total_params"] == 61_706 and data["trainable_params"] == 61_706
    assert data["non_trainable_params"] == 0 and data["macs"] > 0
    first = data["layers"][1]
    assert set(first) >= {"name", "type", "output_shape", "params", "macs", "activation_memory"}
    assert first["output_shape"] == [28, 28, 6] and first["params"] == 156
    assert data["diagnostics"] == []


def test_analyze_errors_exit_2(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "missing.cnnproj")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["analyze", str(bad)]) == 2
    assert "invalid JSON" in capsys.readouterr().err
    graph = lenet()
    graph.set_params("conv2", {"filters": 16, "kernel_size": 20})
    path = save_project(Project(graph), tmp_path / "invalid.cnnproj")
    assert main(["analyze", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    diagnostics = json.loads(captured.out)["diagnostics"]
    assert diagnostics[0]["node"] == "conv2" and diagnostics[0]["severity"] == "error"
    assert captured.err.startswith("error: ") and "conv2" in captured.err


def test_help_lists_commands():
    out = run_cli("--help")
    assert out.returncode == 0 and "analyze" in out.stdout
