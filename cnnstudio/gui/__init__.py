"""The desktop app (PySide6). The only package that imports Qt."""

from __future__ import annotations

import os

# superqt/pyqtgraph pick their binding through qtpy: pin it before anything imports them.
os.environ.setdefault("QT_API", "pyside6")
