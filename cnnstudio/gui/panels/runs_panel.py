"""The Runs section: every run of the project, overlaid curves, "what changed", open, delete."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.gui.panels.common import (
    SERIES_COLOURS,
    box,
    muted,
    open_folder,
    style_plot,
)
from cnnstudio.gui.panels.plots import pg
from cnnstudio.training import run_records
from cnnstudio.training.rundir import RunDirectory
from cnnstudio.training.runstore import runs_folder

COLUMNS = ("Run", "Status", "Date", "Best val acc", "Epochs", "Duration", "Key settings")
STATUS_COLOURS = {"completed": "#2f9e5f", "running": "#3d7eff", "stopped": "#c58a00", "failed": "#d64541"}


class RunsPanel(QWidget):
    def __init__(self, window: Any):
        super().__init__()
        self.window_ref = window
        self.runs: list[run_records.RunSummary] = []
        self.confirm = self._confirm  # replaced in tests
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        bar = QHBoxLayout()
        self.folder_label = muted()
        self.refresh_button = QPushButton("Refresh")
        self.open_button = QPushButton("Open folder")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setToolTip("Delete the selected runs from disk (asks first).")
        self.refresh_button.clicked.connect(self.refresh)
        self.open_button.clicked.connect(self.open_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        bar.addWidget(self.folder_label, 1)
        for button in (self.refresh_button, self.open_button, self.delete_button):
            bar.addWidget(button)
        outer.addLayout(bar)
        splitter = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setSortingEnabled(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        splitter.addWidget(self.table)
        lower = QSplitter(Qt.Orientation.Horizontal)
        plots = QWidget()
        plot_row = QHBoxLayout(plots)
        plot_row.setContentsMargins(0, 0, 0, 0)
        self.acc_plot, self.loss_plot = pg.PlotWidget(), pg.PlotWidget()
        style_plot(self.acc_plot, "Validation accuracy", "fraction correct", "epoch")
        style_plot(self.loss_plot, "Validation loss", "cross-entropy", "epoch")
        for plot in (self.acc_plot, self.loss_plot):
            plot.getPlotItem().addLegend(offset=(-8, 8))
            plot.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
            plot_row.addWidget(plot)
        frame, _ = box("Curves of the selected runs", plots)
        lower.addWidget(frame)
        self.diff = QTextBrowser()
        self.diff.setPlaceholderText("Select two runs to see what changed between them.")
        diff_frame, _ = box("What changed", self.diff, "Architecture, data and settings from the runs' snapshots.")
        lower.addWidget(diff_frame)
        lower.setSizes([800, 420])
        splitter.addWidget(lower)
        splitter.setSizes([330, 480])
        outer.addWidget(splitter, 1)
        window.project_changed.connect(lambda _p: self.refresh())
        self.refresh()

    def folder(self) -> Path | None:
        return runs_folder(self.window_ref.project.path)

    def refresh(self) -> None:
        folder = self.folder()
        self.runs = run_records.list_runs(folder)
        self.folder_label.setText(f"{len(self.runs)} run(s) in {folder}" if folder else
                                  "Save the project: its runs are kept in runs/ beside the project file.")
        self.table.setRowCount(len(self.runs))
        for row, run in enumerate(self.runs):
            best = "—" if run.best_metric is None else f"{run.best_metric:.3f} (epoch {run.best_epoch})"
            values = (run.name, run.status, run.started.strftime("%Y-%m-%d %H:%M") if run.started else "",
                      best, f"{run.epochs_completed}/{run.epochs or '?'}", _duration(run.seconds), run.key_settings())
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                if col == 1:
                    item.setForeground(pg.mkColor(STATUS_COLOURS.get(run.status, "#687284")))
                    if run.error:
                        item.setToolTip(run.error)
                if col in (3, 4, 5):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        if self.runs and not self.table.selectedItems():
            # The two newest runs: their curves overlaid and what changed between them.
            self.table.selectRow(0)
            if len(self.runs) > 1:
                model = self.table.selectionModel()
                model.select(self.table.model().index(1, 0), model.SelectionFlag.Select | model.SelectionFlag.Rows)
        self._selection_changed()

    def selected(self) -> list[run_records.RunSummary]:
        rows = sorted({index.row() for index in self.table.selectedIndexes()})
        return [self.runs[r] for r in rows if r < len(self.runs)]

    def _selection_changed(self) -> None:
        chosen = self.selected()
        self.open_button.setEnabled(len(chosen) == 1)
        self.delete_button.setEnabled(bool(chosen))
        for plot in (self.acc_plot, self.loss_plot):
            plot.getPlotItem().clear()
            legend = plot.getPlotItem().legend
            if legend is not None:
                legend.clear()
        for i, run in enumerate(chosen[:len(SERIES_COLOURS)]):
            rows = RunDirectory(run.path, writer=False).read_metrics()
            epochs = [r["epoch"] for r in rows if r.get("val_accuracy") is not None]
            colour = SERIES_COLOURS[i]
            for plot, key in ((self.acc_plot, "val_accuracy"), (self.loss_plot, "val_loss")):
                values = [r[key] for r in rows if r.get("val_accuracy") is not None]
                plot.plot(epochs, values, pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=5,
                          symbolBrush=colour, symbolPen=None, name=run.name)
        self.show_diff(chosen)

    def show_diff(self, chosen: list[run_records.RunSummary]) -> None:
        if len(chosen) != 2:
            self.diff.setHtml("")
            return
        old, new = sorted(chosen, key=lambda r: r.started or 0)
        changes = run_records.diff_runs(old.path, new.path)
        html = [f"<p><b>{old.name}</b> → <b>{new.name}</b></p>"]
        for section, lines in changes.items():
            html.append(f"<h4 style='margin-bottom:2px'>{section}</h4>")
            if not lines:
                html.append("<p style='color:#687284'>no change</p>")
            else:
                html.append("<ul style='margin-top:0'>" + "".join(f"<li>{_escape(line)}</li>" for line in lines)
                            + "</ul>")
        self.diff.setHtml("".join(html))

    def open_selected(self) -> None:
        chosen = self.selected()
        if len(chosen) == 1:
            open_folder(chosen[0].path)

    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes |
                                      QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def delete_selected(self) -> int:
        chosen = [r for r in self.selected() if r.status != "running" or not self._is_live(r.path)]
        if not chosen:
            return 0
        names = ", ".join(r.name for r in chosen[:5]) + ("…" if len(chosen) > 5 else "")
        if not self.confirm("Delete runs", f"Delete {len(chosen)} run(s) from disk: {names}?\n"
                            "Their checkpoints, curves and models are removed. This cannot be undone."):
            return 0
        for run in chosen:
            shutil.rmtree(run.path, ignore_errors=True)
        self.refresh()
        return len(chosen)

    def _is_live(self, path: Path) -> bool:
        training = getattr(self.window_ref, "sections", {}).get("Training")
        return bool(training is not None and training.client.running and training.run_dir == path)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f}s"
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m {seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
