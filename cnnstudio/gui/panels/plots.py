"""Live training plots (pyqtgraph): per-batch curves thin + smoothed, validation per epoch.

Events only append to numpy buffers; a timer redraws what changed at most REDRAW_HZ times
per second with setData on whole arrays (downsampling and clip-to-view keep it cheap at
hundreds of thousands of points).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

os.environ.setdefault("QT_API", "pyside6")
import pyqtgraph as pg  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtGui import QColor  # noqa: E402
from PySide6.QtWidgets import QGridLayout, QWidget  # noqa: E402

from cnnstudio.gui.panels.common import style_plot  # noqa: E402

REDRAW_HZ = 10
SMOOTHING = 0.9  # exponential moving average weight of the past (debiased)
TRAIN, VALID = "#3d7eff", "#e0702f"
BALANCED, MACRO_F1 = "#b5487e", "#1f9e9e"  # validation balanced accuracy, macro-F1


class Buffer:
    """Growing float arrays (amortised appends)."""

    def __init__(self, columns: int, capacity: int = 1024):
        self.data = np.empty((capacity, columns), dtype=np.float64)
        self.size = 0

    def append(self, row: list[float]) -> None:
        if self.size == len(self.data):
            self.data = np.concatenate([self.data, np.empty_like(self.data)])
        self.data[self.size] = row
        self.size += 1

    def column(self, index: int) -> np.ndarray:
        return self.data[: self.size, index]

    def clear(self) -> None:
        self.size = 0


def _pen(colour: str, width: float = 1.0, alpha: int = 255) -> Any:
    c = QColor(colour)
    c.setAlpha(alpha)
    return pg.mkPen(c, width=width)


class LivePlots(QWidget):
    """Loss, accuracy, learning rate and throughput against epochs (fractional for batches)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(6)
        self.plots: dict[str, pg.PlotWidget] = {}
        specs = {"loss": ("Loss", "cross-entropy"), "accuracy": ("Accuracy", "fraction correct"),
                 "lr": ("Learning rate", "η"), "speed": ("Throughput", "images/s")}
        for i, (key, (title, unit)) in enumerate(specs.items()):
            plot = pg.PlotWidget()
            style_plot(plot, title, unit, "epoch")
            item = plot.getPlotItem()
            item.setDownsampling(auto=True, mode="peak")
            item.setClipToView(True)
            item.getAxis("left").enableAutoSIPrefix(False)  # accuracy stays 0–1, η stays 0.001
            if key in ("loss", "accuracy"):
                item.addLegend(offset=(-8, 8), labelTextColor=plot.getPlotItem().getAxis("left").textPen().color())
            self.plots[key] = plot
            grid.addWidget(plot, i // 2, i % 2)
        for key in ("accuracy", "lr", "speed"):
            self.plots[key].setXLink(self.plots["loss"])
        # Fixed ranges where the quantity allows: axes then re-render only when a range steps.
        self.plots["accuracy"].setYRange(0, 1.02, padding=0)
        self.plots["accuracy"].getPlotItem().enableAutoRange(y=False)
        self.plots["loss"].getPlotItem().enableAutoRange(x=False)
        self.x_limit = 0.0
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 2)
        self.batches = Buffer(6)  # x, loss, accuracy, lr, images/s, smoothed count
        self.smoothed = Buffer(3)  # x, loss, accuracy (EMA)
        self.epochs = Buffer(7)  # epoch, loss, accuracy, val_loss, val_accuracy, val balanced acc, val macro-F1
        self._ema = [0.0, 0.0]
        self._ema_n = 0
        self.best_epoch: int | None = None
        loss, acc = self.plots["loss"], self.plots["accuracy"]
        self.curves = {
            "loss_raw": loss.plot(pen=_pen(TRAIN, 1, 70)),
            "loss": loss.plot(pen=_pen(TRAIN, 2), name="train (smoothed)"),
            "val_loss": loss.plot(pen=_pen(VALID, 1.5), symbol="o", symbolSize=6, symbolBrush=VALID,
                                  symbolPen=None, name="validation"),
            "acc_raw": acc.plot(pen=_pen(TRAIN, 1, 70)),
            "acc": acc.plot(pen=_pen(TRAIN, 2), name="train (smoothed)"),
            "val_acc": acc.plot(pen=_pen(VALID, 1.5), symbol="o", symbolSize=6, symbolBrush=VALID,
                                symbolPen=None, name="validation"),
            # Balanced metrics (event revision 2): drawn only where a run reports them.
            "val_balanced": acc.plot(pen=pg.mkPen(BALANCED, width=1.2, style=pg.QtCore.Qt.PenStyle.DashLine),
                                     symbol="t", symbolSize=6, symbolBrush=BALANCED, symbolPen=None,
                                     name="val balanced acc"),
            "val_f1": acc.plot(pen=pg.mkPen(MACRO_F1, width=1.2, style=pg.QtCore.Qt.PenStyle.DotLine),
                               symbol="s", symbolSize=5, symbolBrush=MACRO_F1, symbolPen=None, name="val macro-F1"),
            "lr": self.plots["lr"].plot(pen=_pen("#8a6bd3", 1.5)),
            "speed": self.plots["speed"].plot(pen=_pen("#2f9e5f", 1)),
        }
        self.best_lines = []
        for key in ("loss", "accuracy"):
            line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#2f9e5f", width=1, style=pg.QtCore.Qt.PenStyle.DashLine),
                                   label="best", labelOpts={"position": 0.92, "color": "#2f9e5f"})
            line.hide()
            self.plots[key].addItem(line)
            self.best_lines.append(line)
        self.dirty = False
        self.redraws = 0
        self.timer = QTimer(self)
        self.timer.setInterval(1000 // REDRAW_HZ)
        self.timer.timeout.connect(self.redraw)
        self.timer.start()

    # ---- data in ------------------------------------------------------------------------
    def clear(self) -> None:
        for buffer in (self.batches, self.smoothed, self.epochs):
            buffer.clear()
        self._ema, self._ema_n, self.best_epoch = [0.0, 0.0], 0, None
        self.x_limit = 0.0
        for line in self.best_lines:
            line.hide()
        self.dirty = True

    def add_batch(self, event: dict[str, Any]) -> None:
        steps = max(int(event.get("steps") or 1), 1)
        x = int(event["epoch"]) - 1 + int(event["step"]) / steps
        loss, acc = event.get("loss"), event.get("accuracy")
        loss = float("nan") if loss is None else float(loss)
        acc = float("nan") if acc is None else float(acc)
        self.batches.append([x, loss, acc, float(event.get("lr") or np.nan),
                             float(event.get("images_per_second") or np.nan), 0])
        if np.isfinite(loss) and np.isfinite(acc):
            self._ema_n += 1
            self._ema = [SMOOTHING * e + (1 - SMOOTHING) * v for e, v in zip(self._ema, (loss, acc), strict=True)]
            debias = 1 - SMOOTHING ** self._ema_n
            self.smoothed.append([x, self._ema[0] / debias, self._ema[1] / debias])
        self.dirty = True

    def add_epoch(self, event: dict[str, Any]) -> None:
        def value(key: str) -> float:
            v = event.get(key)
            return float("nan") if v is None else float(v)

        self.epochs.append([float(event["epoch"]), value("loss"), value("accuracy"), value("val_loss"),
                            value("val_accuracy"), value("val_balanced_accuracy"), value("val_macro_f1")])
        if event.get("best"):
            self.set_best(int(event["epoch"]))
        self.dirty = True

    def set_best(self, epoch: int | None) -> None:
        self.best_epoch = epoch
        for line in self.best_lines:
            if epoch is None:
                line.hide()
            else:
                line.setValue(epoch)
                line.show()

    # ---- drawing -----------------------------------------------------------------------
    def redraw(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        self.redraws += 1
        b, s, e = self.batches, self.smoothed, self.epochs
        x = b.column(0)
        last = max(float(x[-1]) if len(x) else 0.0, float(e.column(0)[-1]) if e.size else 0.0, 1.0)
        if last > self.x_limit or not self.x_limit:
            self.x_limit = _nice_ceiling(last * 1.05)  # steps 1, 2, 5, 10... epochs
            self.plots["loss"].setXRange(0, self.x_limit, padding=0.02)
        self.curves["loss_raw"].setData(x, b.column(1), connect="finite")
        self.curves["acc_raw"].setData(x, b.column(2), connect="finite")
        self.curves["lr"].setData(x, b.column(3), connect="finite")
        rates = b.column(3)[np.isfinite(b.column(3))]
        if rates.size:  # from 0: a constant rate is a flat line at its value, not at the centre
            top = float(rates.max()) * 1.15 or 1.0
            if top != getattr(self, "_lr_top", None):
                self._lr_top = top
                self.plots["lr"].setYRange(0, top, padding=0)
        self.curves["speed"].setData(x, b.column(4), connect="finite")
        self.curves["loss"].setData(s.column(0), s.column(1))
        self.curves["acc"].setData(s.column(0), s.column(2))
        epochs = e.column(0)
        if not b.size and e.size:  # a finished run without batch records: per-epoch training values
            self.curves["loss"].setData(epochs, e.column(1))
            self.curves["acc"].setData(epochs, e.column(2))
        val_loss, val_acc = e.column(3), e.column(4)
        keep = np.isfinite(val_acc)
        self.curves["val_loss"].setData(epochs[keep], val_loss[keep])
        self.curves["val_acc"].setData(epochs[keep], val_acc[keep])
        for name, column in (("val_balanced", 5), ("val_f1", 6)):
            values = e.column(column)
            shown = np.isfinite(values)
            self.curves[name].setData(epochs[shown], values[shown])

    def point_count(self) -> int:
        return self.batches.size


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 × 10^k at or above value."""
    import math

    power = 10 ** math.floor(math.log10(max(value, 1e-9)))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power
