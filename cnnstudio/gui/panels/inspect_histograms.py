"""Histograms over training, per layer over epochs as a heat map, with gradient warnings."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_API", "pyside6")
import pyqtgraph as pg  # noqa: E402
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget  # noqa: E402

from cnnstudio.gui.panels.common import muted, style_plot  # noqa: E402
from cnnstudio.inspect.histogram_records import (  # noqa: E402
    KINDS,
    gradient_flags,
    heat_rows,
    layer_names,
    read_histograms,
)


class HistogramView(QWidget):
    """Rows: epochs; columns: value bins; brightness: the share of values in the bin."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.records: list[dict] = []
        self.layer = QComboBox()
        self.kind = QComboBox()
        self.kind.addItems(list(KINDS))
        self.layer.currentIndexChanged.connect(lambda _i: self._draw())
        self.kind.currentIndexChanged.connect(lambda _i: self._draw())
        self.plot = pg.PlotWidget()
        style_plot(self.plot, "", "value", "epoch")
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.plot.addItem(self.image)
        self.flags = QLabel()
        self.flags.setWordWrap(True)
        self.status = muted("Histograms appear for runs trained with this version (one row per epoch).")
        row = QHBoxLayout()
        row.addWidget(QLabel("Layer"))
        row.addWidget(self.layer, 1)
        row.addWidget(QLabel("Of"))
        row.addWidget(self.kind)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.flags)
        layout.addWidget(self.status)

    def set_run(self, run_dir: Path | None) -> None:
        self.records = read_histograms(run_dir) if run_dir is not None else []
        current = self.layer.currentText()
        self.layer.blockSignals(True)
        self.layer.clear()
        self.layer.addItems(layer_names(self.records))
        if current:
            self.layer.setCurrentText(current)
        self.layer.blockSignals(False)
        flags = gradient_flags(self.records)
        self.flags.setText("" if not flags else "⚠ " + "; ".join(f.message() for f in flags[:6])
                           + (f" (+{len(flags) - 6} more)" if len(flags) > 6 else ""))
        if run_dir is None:
            self.status.setText("Pick a trained run to see its histograms.")
        elif not self.records:
            self.status.setText(f"{Path(run_dir).name} has no histograms (trained before they were recorded, "
                                "or with histograms off).")
        else:
            self.status.setText(f"{len(self.records)} epochs, measured on {self.records[-1].get('sample_images', '?')} "
                                "validation images.")
        self._draw()

    def select_layer(self, name: str) -> None:
        if self.layer.findText(name) >= 0:
            self.layer.setCurrentText(name)

    def _draw(self) -> None:
        rows, low, high = heat_rows(self.records, self.layer.currentText(), self.kind.currentText())
        if not rows:
            self.image.clear()
            return
        data = np.asarray(rows, dtype=np.float32)  # [epochs, bins]
        self.image.setImage(data, autoLevels=True)
        # x: epochs 1..E (one column each), y: the value range low..high
        self.image.setRect(0.5, low, len(rows), high - low)
        self.plot.setLabel("left", self.kind.currentText())
        self.plot.getPlotItem().enableAutoRange()
