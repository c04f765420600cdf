"""CI-friendly wheel check: build the wheel, install it in a fresh venv, run the app's
entry points from there (`--help`, `zoo list`, a GUI screenshot), outside the source tree.

Usage: python packaging/check_wheel.py [--keep]. Exits non-zero on the first failure.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    print("$", " ".join(str(c) for c in cmd), flush=True)
    result = subprocess.run(cmd, text=True, capture_output=True, **kwargs)
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:], sep="\n")
        raise SystemExit(f"check_wheel: failed: {' '.join(map(str, cmd))}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", action="store_true", help="keep the temporary venv")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cnnstudio-wheel-"))
    dist = work / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", str(ROOT), "-w", str(dist)])
    wheel = next(dist.glob("cnnstudio-*.whl"))
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    run([str(bin_dir / "pip"), "install", "-q", str(wheel)])
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("PYTHONPATH", None)
    exe = str(bin_dir / "cnnstudio")
    run([exe, "--help"], cwd=work, env=env)
    listing = run([exe, "zoo", "list"], cwd=work, env=env)
    assert "resnet" in listing.stdout, listing.stdout
    shot = work / "shot.png"
    run([exe, "gui", "--screenshot", str(shot)], cwd=work, env=env)
    assert shot.stat().st_size > 10_000, "the screenshot is suspiciously small"
    # The sample project must come from inside the installed wheel.
    where = run([str(bin_dir / "python"), "-c", "from cnnstudio import paths; print(paths.sample_project())"], cwd=work, env=env)
    assert "site-packages" in where.stdout and Path(where.stdout.strip()).exists(), where.stdout
    print(f"wheel OK: {wheel.name} ({wheel.stat().st_size / 1e6:.1f} MB); screenshot {shot}")
    if not args.keep:
        import shutil

        shutil.rmtree(env_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
