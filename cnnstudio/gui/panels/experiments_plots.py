"""The Experiments section's plots: parallel coordinates, objective vs MACs with the Pareto
front, and the selected trials' validation curves (styled like the Runs plots).

Each plot redraws from a list of TrialRows with whole-array setData calls; the panel calls
`show_rows` at most once a second, so a long sweep never floods the window.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cnnstudio.experiments.results import TrialRow, pareto_front
from cnnstudio.gui.panels.common import SERIES_COLOURS, style_plot
from cnnstudio.gui.panels.plots import _pen, pg

STATUS_BRUSH = {"completed": "#3d7eff", "pruned": "#c58a00", "failed": "#d64541", "running": "#2f9e5f"}


def _axis_values(rows: list[TrialRow], key: str) -> tuple[np.ndarray, list[str] | None]:
    """A setting's values scaled to 0..1 (log for wide positive ranges); labels for categories."""
    raw = [row.settings.get(key) for row in rows]
    numbers = [v for v in raw if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) == len(raw) and numbers:
        values = np.array(numbers, dtype=float)
        if values.min() > 0 and values.max() / values.min() > 20:
            values = np.log10(values)
        low, high = float(values.min()), float(values.max())
        return (values - low) / (high - low) if high > low else np.full(len(values), 0.5), None
    labels = sorted({str(v) for v in raw})
    index = {label: i for i, label in enumerate(labels)}
    scale = max(len(labels) - 1, 1)
    return np.array([index[str(v)] / scale for v in raw], dtype=float), labels


def _axis_ticks(rows: list[TrialRow], key: str) -> list[tuple[float, str]]:
    """Where an axis's values sit (0..1, as _axis_values puts them) and how they read."""
    raw = [row.settings.get(key) for row in rows]
    numbers = [v for v in raw if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) == len(raw) and numbers:
        low, high = min(numbers), max(numbers)
        return [(0.0, f"{low:.3g}"), (1.0, f"{high:.3g}")] if high > low else [(0.5, f"{low:.3g}")]
    labels = sorted({str(v) for v in raw})
    scale = max(len(labels) - 1, 1)
    return [(i / scale, label) for i, label in enumerate(labels)]


def _short_key(key: str) -> str:
    """'training.learning_rate' -> 'learning_rate'; 'node:c1.filters' -> 'c1.filters'."""
    if key.startswith("node:"):
        return key[len("node:"):]
    return key if key.startswith("zoo:") else key.rpartition(".")[2]


class ParallelCoordinates(pg.PlotWidget):
    """One vertical axis per varying setting plus the objective; one line per finished trial,
    coloured from poor (grey) to good (blue)."""

    def __init__(self, objective: str = "val_accuracy"):
        super().__init__()
        self.objective = objective
        style_plot(self, "Parallel coordinates", "scaled", "")
        self.getPlotItem().hideAxis("left")
        self.setYRange(-0.08, 1.08, padding=0)
        self.getPlotItem().enableAutoRange(y=False)
        self.lines: list[Any] = []
        self.labels: list[Any] = []  # each axis's values, beside it

    def show_rows(self, rows: list[TrialRow], maximize: bool = True) -> None:
        for item in [*self.lines, *self.labels]:
            self.removeItem(item)
        self.lines, self.labels = [], []
        done = [r for r in rows if r.value is not None]
        keys = sorted({key for row in done for key in row.settings})
        axis = self.getPlotItem().getAxis("bottom")
        names = [_short_key(key) for key in keys] + [self.objective]
        axis.setTicks([[(i, name) for i, name in enumerate(names)]])
        if not done:
            return
        columns = [_axis_values(done, key)[0] for key in keys]
        scores = np.array([r.value for r in done], dtype=float)
        low, high = float(scores.min()), float(scores.max())
        quality = (scores - low) / (high - low) if high > low else np.ones(len(done))
        if not maximize:
            quality = 1 - quality
        columns.append(quality)
        best, worst = (high, low) if maximize else (low, high)
        ticks = [_axis_ticks(done, key) for key in keys] + [[(0.0, f"{worst:.3g}"), (1.0, f"{best:.3g}")]]
        muted = self.getPlotItem().getAxis("bottom").textPen().color()
        for i, axis_ticks in enumerate(ticks):
            for y, text in axis_ticks:
                label = pg.TextItem(text, color=muted, anchor=(0, 0.5))
                label.setPos(i + 0.04, y)
                self.addItem(label)
                self.labels.append(label)
        x = np.arange(len(columns), dtype=float)
        for i in np.argsort(quality):  # best drawn last, on top
            colour = pg.mkColor("#3d7eff")
            colour.setAlpha(int(60 + 195 * quality[i]))
            line = self.plot(x, np.array([column[i] for column in columns]), pen=pg.mkPen(colour, width=1.5))
            self.lines.append(line)
        self.setXRange(-0.4, len(columns) - 0.6, padding=0)  # room for the first and last axis names


class TradeOffPlot(pg.PlotWidget):
    """Objective against MACs per trial; the Pareto front (more accurate and cheaper) joined."""

    def __init__(self, objective: str = "val_accuracy"):
        super().__init__()
        style_plot(self, f"{objective} vs cost", objective, "multiply-adds (MACs)")
        self.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
        self.points = pg.ScatterPlotItem(size=9, pen=None)
        # The Pareto front: no other trial is both better and cheaper; ringed and joined.
        self.front = self.plot(pen=_pen("#2f9e5f", 1.5), symbol="o", symbolSize=15, symbolBrush=None,
                               symbolPen=_pen("#2f9e5f", 2), name="Pareto front")
        self.addItem(self.points)
        self.front_numbers: list[int] = []

    def show_rows(self, rows: list[TrialRow], maximize: bool = True) -> None:
        done = [r for r in rows if r.value is not None and r.macs]
        spots = [{"pos": (float(r.macs), float(r.value)), "brush": STATUS_BRUSH.get(r.status, "#687284"),
                  "data": r.number} for r in done]
        self.points.setData(spots)
        finished = [r for r in done if r.status == "completed"]
        keep = pareto_front([(float(r.value), float(r.macs)) for r in finished],
                            ["maximize" if maximize else "minimize", "minimize"])
        chosen = sorted((finished[i] for i in keep), key=lambda r: r.macs)
        self.front_numbers = [r.number for r in chosen]
        self.front.setData([float(r.macs) for r in chosen], [float(r.value) for r in chosen])


class TrialCurves(pg.PlotWidget):
    """The objective per epoch of the selected trials, one colour each (as the Runs overlay)."""

    def __init__(self, objective: str = "val_accuracy"):
        super().__init__()
        style_plot(self, f"Selected trials: {objective}", objective, "epoch")
        self.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
        self.legend = self.getPlotItem().addLegend(offset=(-8, 8))
        self.curves: list[Any] = []

    def show_rows(self, rows: list[TrialRow]) -> None:
        for curve in self.curves:
            self.removeItem(curve)
        self.legend.clear()
        self.curves = []
        for i, row in enumerate(rows):
            values = np.array([math.nan if v is None else v for v in row.curve], dtype=float)
            colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
            curve = self.plot(np.arange(1, len(values) + 1, dtype=float), values, pen=_pen(colour, 2),
                              symbol="o", symbolSize=5, symbolBrush=colour, symbolPen=None,
                              name=f"trial {row.number}", connect="finite")
            self.curves.append(curve)
