"""`python -m cnnstudio.gui.panels.data [PROJECT] [--screenshot OUT.png]`: the Data panel alone."""

from __future__ import annotations

from cnnstudio.gui.panels.data_panel import DataPanel

__all__ = ["DataPanel"]

if __name__ == "__main__":
    from cnnstudio.gui.app import preview_panel

    raise SystemExit(preview_panel(DataPanel))
