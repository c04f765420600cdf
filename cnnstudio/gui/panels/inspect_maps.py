"""Feature maps and filters of one layer at a time: the layer list, the channel grid, channel statistics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.gui.panels.common import array_to_pixmap, muted
from cnnstudio.inspect.render import PAGE, filter_grid, map_grid, pages
from cnnstudio.inspect.results import Filters, LayerMaps, load_layer_maps

STATS_IMAGES = 16  # dataset images the channel statistics (dead units) are measured over


class MapsView(QWidget):
    """Pick a layer (click, or Up/Down in the list): its channels as a grid, paged when large."""

    layer_chosen = Signal(str)

    def __init__(self, request: Callable[..., bool], parent: QWidget | None = None):
        super().__init__(parent)
        self.request = request
        self.layers: list[dict[str, Any]] = []
        self.current: LayerMaps | None = None
        self.kernels: Filters | None = None
        self.page = 0
        self._cache: dict[str, LayerMaps] = {}

        self.layer_list = QListWidget()
        self.layer_list.setMinimumWidth(190)
        self.layer_list.currentItemChanged.connect(self._layer_changed)
        self.grid = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.grid.setMinimumSize(240, 240)
        self.scroll = scroll = QScrollArea()
        scroll.setWidget(self.grid)
        scroll.setWidgetResizable(True)
        self.caption = muted("Pick an image and a layer.")
        self.previous = QPushButton("◀")
        self.next = QPushButton("▶")
        self.previous.setToolTip("Previous page of channels")
        self.next.setToolTip("Next page of channels")
        self.previous.clicked.connect(lambda: self._turn(-1))
        self.next.clicked.connect(lambda: self._turn(1))
        self.page_label = QLabel()
        self.filters_button = QPushButton("Filters")
        self.filters_button.setCheckable(True)
        self.filters_button.setToolTip("Show the layer's kernels instead of its activations (convolutions)")
        self.filters_button.toggled.connect(lambda _on: self._show_layer())
        controls = QHBoxLayout()
        controls.addWidget(self.caption, 1)
        controls.addWidget(self.filters_button)
        controls.addWidget(self.previous)
        controls.addWidget(self.page_label)
        controls.addWidget(self.next)
        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.addLayout(controls)
        centre_layout.addWidget(scroll, 1)
        self.stats = QTableWidget(0, 3)
        self.stats.setHorizontalHeaderLabels(["channel", "mean", "dead"])
        self.stats.verticalHeader().setVisible(False)
        self.stats.setMinimumWidth(200)
        self.stats.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.stats.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        split = QSplitter()
        split.addWidget(self.layer_list)
        split.addWidget(centre)
        split.addWidget(self.stats)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        self._update_controls()

    # ---- the source ------------------------------------------------------------------------
    def set_layers(self, layers: list[dict[str, Any]]) -> None:
        """The model's layers (from the helper's `describe`); selects the first convolution."""
        self.layers = layers
        self._cache.clear()
        self.current, self.kernels = None, None
        self.layer_list.blockSignals(True)
        self.layer_list.clear()
        for layer in layers:
            shape = "×".join(str(d) for d in layer["shape"])
            item = QListWidgetItem(f"{layer['name']}  {shape}")
            item.setData(Qt.ItemDataRole.UserRole, layer["name"])
            item.setToolTip(f"{layer['type']}, output {shape}")
            self.layer_list.addItem(item)
        self.layer_list.blockSignals(False)
        first = next((i for i, layer in enumerate(layers) if layer["conv"]), 0 if layers else -1)
        if first >= 0:
            self.layer_list.setCurrentRow(first)
        self._update_controls()

    def image_changed(self) -> None:
        self._cache.clear()
        self._show_layer()

    def select_layer(self, name: str) -> bool:
        """Show layer `name` (a card clicked in the editor); False when the model has no such layer."""
        for row in range(self.layer_list.count()):
            if self.layer_list.item(row).data(Qt.ItemDataRole.UserRole) == name:
                self.layer_list.setCurrentRow(row)
                return True
        return False

    @property
    def layer_name(self) -> str | None:
        item = self.layer_list.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    # ---- requests --------------------------------------------------------------------------
    def _layer_changed(self, *_: Any) -> None:
        self.page = 0
        self.kernels = None
        name = self.layer_name
        if name is not None:
            self.layer_chosen.emit(name)
        self._show_layer()

    def _show_layer(self) -> None:
        name = self.layer_name
        if name is None:
            return
        if self.filters_button.isChecked():
            if self.kernels is not None and self.kernels.name == name:
                self._draw()
            else:
                self.caption.setText(f"Reading {name}'s kernels…")
                self.request("filters", {"layer": name}, self._filters_arrived, key="filters")
            return
        if name in self._cache:
            self.current = self._cache[name]
            self._draw()
            return
        self.caption.setText(f"Computing {name}…")
        sent = self.request("maps", {"layers": [name], "stats_images": STATS_IMAGES}, self._maps_arrived,
                            key="maps", image=True)
        if not sent:
            self.caption.setText("Pick an image to see its feature maps.")

    def _maps_arrived(self, answer: dict[str, Any], out: str) -> None:
        if not answer.get("ok"):
            self.caption.setText(answer.get("error", "failed"))
            return
        for layer in load_layer_maps(out):
            self._cache[layer.name] = layer
        if self.layer_name in self._cache:
            self.current = self._cache[self.layer_name]
            self._draw()

    def _filters_arrived(self, answer: dict[str, Any], out: str) -> None:
        import numpy as np

        if not answer.get("ok"):
            self.caption.setText(answer.get("error", "failed"))
            self.grid.clear()
            return
        with np.load(out) as data:
            self.kernels = Filters(self.layer_name or "", data["kernels"])
        self._draw()

    # ---- drawing ---------------------------------------------------------------------------
    def _turn(self, step: int) -> None:
        if self.current is not None:
            self.page = max(0, min(pages(self.current.channels) - 1, self.page + step))
            self._draw()

    def _draw(self) -> None:
        if self.filters_button.isChecked() and self.kernels is not None:
            picture = filter_grid(self.kernels)
            kind = "RGB kernels" if self.kernels.rgb else "kernels (rows: filters, columns: input channels)"
            self.caption.setText(f"{self.kernels.name}: {'×'.join(map(str, self.kernels.kernels.shape))} {kind}")
        elif self.current is not None:
            layer = self.current
            picture = map_grid(layer, self.page)
            self.caption.setText(f"{layer.name} {'×'.join(map(str, layer.shape))}: mean {layer.mean:.3g}, "
                                 f"dead {layer.dead_fraction:.0%} of channels over {layer.batch_size} images")
            self._fill_stats(layer)
        else:
            return
        self._picture = picture
        self._fit()
        self._update_controls()

    def _fit(self) -> None:
        """Enlarge small grids (no smoothing) to the space available; large ones scroll."""
        picture = getattr(self, "_picture", None)
        if picture is None:
            return
        room = min(self.scroll.viewport().width(), self.scroll.viewport().height()) - 8
        size = room if max(picture.shape[:2]) < room else None
        self.grid.setPixmap(array_to_pixmap(picture, size))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()

    def _fill_stats(self, layer: LayerMaps) -> None:
        first = self.page * PAGE
        rows = range(first, min(layer.channels, first + PAGE))
        self.stats.setRowCount(len(rows))
        for row, channel in enumerate(rows):
            dead = bool(layer.channel_dead[channel])
            for column, text in enumerate((str(channel), f"{layer.channel_means[channel]:.3g}", "dead" if dead else "")):
                self.stats.setItem(row, column, QTableWidgetItem(text))

    def _update_controls(self) -> None:
        count = pages(self.current.channels) if self.current is not None else 1
        showing_maps = not self.filters_button.isChecked()
        self.previous.setEnabled(showing_maps and self.current is not None and self.page > 0)
        self.next.setEnabled(showing_maps and self.current is not None and self.page < count - 1)
        self.page_label.setText(f"page {self.page + 1}/{count}" if showing_maps else "")
        conv = any(layer["conv"] and layer["name"] == self.layer_name for layer in self.layers)
        self.filters_button.setEnabled(conv)
        if not conv and self.filters_button.isChecked():
            self.filters_button.setChecked(False)
