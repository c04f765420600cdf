"""Copies the top-level resources/ into the wheel as cnnstudio/resources.

Everything else is in pyproject.toml. In a source checkout (editable install) the package
finds resources/ beside it instead (cnnstudio.paths.resources_dir).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "make_*.py")


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        source = Path(__file__).resolve().parent / "resources"
        target = Path(self.build_lib) / "cnnstudio" / "resources"
        if source.is_dir() and not self.editable_mode:
            shutil.copytree(source, target, ignore=SKIP, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithResources})
