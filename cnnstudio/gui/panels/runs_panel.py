"""The Runs section: every run of the project, overlaid curves, "what changed", open, delete.

It draws the run store (cnnstudio.training.runstore): a run that starts, finishes or is
deleted anywhere shows here at once, the newest and the one before it selected.
Alone: `python -m cnnstudio.gui.panels.runs_panel [PROJECT]`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.errors import StudioError
from cnnstudio.gui.panels.common import (
    SERIES_COLOURS,
    box,
    muted,
    open_folder,
    row_table,
    style_plot,
)
from cnnstudio.gui.panels.plots import pg
from cnnstudio.gui.panels.training_text import duration
from cnnstudio.project.model import ProjectModel
from cnnstudio.training import run_records
from cnnstudio.training.rundir import RunDirectory
from cnnstudio.training.runstore import RunChange, RunStore

COLUMNS = ("Run", "Status", "Date", "Best", "Epochs", "Duration", "Balanced acc", "Macro-F1", "Key settings")
STATUS_COLOURS = {"completed": "#2f9e5f", "running": "#3d7eff", "stopped": "#c58a00", "failed": "#d64541"}


class RunsPanel(QWidget):
    message = Signal(str)

    def __init__(self, model: ProjectModel, runs: RunStore, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.store = runs
        self.confirm = self._confirm  # replaced in tests
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        bar = QHBoxLayout()
        self.folder_label = muted()
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read the runs folder again (runs made by another program, e.g. the CLI).")
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
        self.table = row_table(COLUMNS)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        splitter.addWidget(self.table)
        lower = QSplitter(Qt.Orientation.Horizontal)
        plots = QWidget()
        plot_column = QVBoxLayout(plots)
        plot_column.setContentsMargins(0, 0, 0, 0)
        plot_row = QHBoxLayout()
        self.acc_plot, self.loss_plot = pg.PlotWidget(), pg.PlotWidget()
        style_plot(self.acc_plot, "Validation accuracy", "fraction correct", "epoch")
        style_plot(self.loss_plot, "Validation loss", "cross-entropy", "epoch")
        for plot in (self.acc_plot, self.loss_plot):
            plot.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
            plot_row.addWidget(plot)
        plot_column.addLayout(plot_row, 1)
        # The legend is a line under the plots: it never covers a curve, whatever the run names.
        self.legend = QLabel(objectName="RunsLegend")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        plot_column.addWidget(self.legend)
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
        self._unsubscribe = runs.subscribe(self._runs_changed)
        self._show_runs(select_newest=True)

    @property
    def runs(self) -> list[run_records.RunSummary]:
        return self.store.runs

    def folder(self) -> Path | None:
        return self.store.folder

    def refresh(self) -> None:
        """The Refresh button: the store reads the folder again; this panel redraws from it."""
        self.store.refresh()

    def _runs_changed(self, change: RunChange) -> None:
        # A new or finished run: it and the one before it are selected, so "what changed" shows.
        # An included run (Experiments' "Open trial") is selected alone and scrolled to.
        if change.kind == "included":
            self._show_runs(select_newest=False, select=change.paths)
            return
        self._show_runs(select_newest=change.kind in ("started", "finished"))

    def _show_runs(self, select_newest: bool, select: tuple[Path, ...] = ()) -> None:
        if select:
            keep = {path.resolve() for path in select}
        else:
            keep = set() if select_newest else {run.path.resolve() for run in self.selected()}
        folder = self.folder()
        trials = sum(1 for run in self.runs if self.store.is_included(run.path))
        shown = f" · {trials} sweep trial(s) opened from Experiments" if trials else ""
        self.folder_label.setText(f"{len(self.runs) - trials} run(s) in {folder}{shown}" if folder else
                                  "Save the project: its runs are kept in runs/ beside the project file." + shown)
        self.table.blockSignals(True)
        self.table.clearSelection()
        self.table.setRowCount(len(self.runs))
        for row, run in enumerate(self.runs):
            best = "—" if run.best_metric is None else \
                f"{run.best_metric:.3f} {run.best_metric_label} (epoch {run.best_epoch})"
            values = (run.name, run.status, run.started.strftime("%Y-%m-%d %H:%M") if run.started else "",
                      best, f"{run.epochs_completed}/{run.epochs or '?'}",
                      duration(run.seconds) if run.seconds else "—",
                      *("—" if v is None else f"{v:.3f}" for v in (run.balanced_accuracy, run.macro_f1)),
                      run.key_settings())
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                if col == 0:
                    item.setToolTip(str(run.path))  # a sweep's trial-0003 says which sweep it is
                if col == 1:
                    item.setForeground(pg.mkColor(STATUS_COLOURS.get(run.status, "#687284")))
                    if run.error:
                        item.setToolTip(run.error)
                if col in (3, 4, 5, 6, 7):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        rows = [i for i, run in enumerate(self.runs) if run.path.resolve() in keep] or \
            list(range(min(2, len(self.runs))))
        model = self.table.selectionModel()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for row in rows:
            model.select(self.table.model().index(row, 0), flags)
        self.table.blockSignals(False)
        if rows:
            self.table.scrollToItem(self.table.item(rows[0], 0))
        self._selection_changed()

    def selected(self) -> list[run_records.RunSummary]:
        rows = sorted({index.row() for index in self.table.selectedIndexes()})
        return [self.runs[r] for r in rows if r < len(self.runs)]

    def _selection_changed(self) -> None:
        chosen = self.selected()
        self.open_button.setEnabled(len(chosen) == 1)
        self.delete_button.setEnabled(any(not self.store.is_live(run.path) for run in chosen))
        for plot in (self.acc_plot, self.loss_plot):
            plot.getPlotItem().clear()
        legend = []
        for i, run in enumerate(chosen[:len(SERIES_COLOURS)]):
            rows = RunDirectory(run.path, writer=False).read_metrics()
            epochs = [r["epoch"] for r in rows if r.get("val_accuracy") is not None]
            colour = SERIES_COLOURS[i]
            for plot, key in ((self.acc_plot, "val_accuracy"), (self.loss_plot, "val_loss")):
                values = [r[key] for r in rows if r.get("val_accuracy") is not None]
                plot.plot(epochs, values, pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=5,
                          symbolBrush=colour, symbolPen=None)
            legend.append(f"<span style='color:{colour}'>━━</span>&nbsp;{_escape(run.name)}")
        self.legend.setText("&nbsp;&nbsp;&nbsp;".join(legend))
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
        chosen = [r for r in self.selected() if not self.store.is_live(r.path)]
        if not chosen:
            return 0
        names = ", ".join(r.name for r in chosen[:5]) + ("…" if len(chosen) > 5 else "")
        if not self.confirm("Delete runs", f"Delete {len(chosen)} run(s) from disk: {names}?\n"
                            "Their checkpoints, curves and models are removed. This cannot be undone."):
            return 0
        try:
            self.store.delete([run.path for run in chosen])
        except StudioError as exc:
            self.message.emit(str(exc))
            return 0
        return len(chosen)

    def shutdown(self) -> None:
        self._unsubscribe()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


if __name__ == "__main__":
    from cnnstudio.gui.app import preview_panel

    raise SystemExit(preview_panel(RunsPanel))
