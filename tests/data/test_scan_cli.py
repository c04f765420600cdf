"""`cnnstudio scan FOLDER [--json]`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cnnstudio.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample"


def test_scan_json(make_folder, capsys):
    root = make_folder({"a": 3, "b": 2})
    (root / "a" / "bad.jpg").write_text("text")
    assert main(["scan", str(root), "--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["classes"] == [{"name": "a", "count": 3}, {"name": "b", "count": 2}]
    assert report["images"] == 5
    assert report["unreadable"] == [{"path": "a/bad.jpg", "reason": "not an image (Pillow cannot identify the content)"}]


def test_scan_text_report_and_errors(make_folder, capsys, tmp_path):
    root = make_folder({"a": 2, "b": 2})
    (root / "b" / "empty.png").write_bytes(b"")
    assert main(["scan", str(root)]) == 0
    captured = capsys.readouterr()
    assert "Usable images: 4 in 2 classes" in captured.out and "b/empty.png: zero bytes" in captured.out
    assert "Indexed 5 files in 2 classes" in captured.err  # the index comes before the header checks
    (root / "a" / "new.png").write_bytes(next((root / "a").glob("*.png")).read_bytes())
    assert main(["scan", str(root)]) == 0
    assert "1 new or changed, 0 gone since the last scan" in capsys.readouterr().err
    assert main(["scan", str(tmp_path / "missing")]) == 2
    assert "error:" in capsys.readouterr().err
    single = make_folder({"only": 2}, name="single")
    assert main(["scan", str(single), "--json"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["problem"] and "only one class" in captured.err


def test_scan_sample_dataset_in_a_fresh_process(tmp_path):
    env = {"CNNSTUDIO_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    code = ("import sys; from cnnstudio.cli import main; code = main(['scan', sys.argv[1], '--json']); "
            "assert 'tensorflow' not in sys.modules, 'scan imported TensorFlow'; sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code, str(SAMPLE)], capture_output=True, text=True, env=env,
                          timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [c["name"] for c in report["classes"]] == [str(i) for i in range(10)]
    assert report["images"] == 500 and report["unreadable"] == []
