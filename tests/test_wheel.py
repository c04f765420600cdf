"""The wheel installs in a fresh venv and its entry points work outside the source tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_runs_in_a_fresh_venv():
    result = subprocess.run([sys.executable, str(ROOT / "packaging" / "check_wheel.py")],
                            capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "wheel OK" in result.stdout
