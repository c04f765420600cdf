"""Test set-up: headless Qt, quiet TensorFlow on CPU."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# The scan cache must not leak between tests or into the user's home.
os.environ.setdefault("CNNSTUDIO_CACHE_DIR", os.path.join(os.environ.get("TMPDIR", "/tmp"), "cnnstudio-test-cache"))

_exit_status = 0


def pytest_sessionfinish(session, exitstatus):
    global _exit_status
    _exit_status = int(exitstatus)


def pytest_unconfigure(config):
    """Skip interpreter finalisation when Qt and TensorFlow share this process.

    The app never loads both in one process (TensorFlow runs in workers), but this test
    process does, and their C++ static destructors can crash at exit (SIGSEGV after every
    test passed). The report is already printed here, so leave without running them.
    """
    import sys

    if "tensorflow" in sys.modules and "PySide6.QtWidgets" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status)
