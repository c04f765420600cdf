"""Saliency of the current image: method and class choices, the image, heat map and overlay, top-5."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from cnnstudio.gui.panels.common import array_to_pixmap, muted
from cnnstudio.inspect.gradcam import colormap, overlay

METHODS = {"Grad-CAM": "gradcam", "Occlusion": "occlusion", "SmoothGrad": "smoothgrad",
           "Integrated Gradients": "ig"}
TILE = 220


class SaliencyView(QWidget):
    def __init__(self, request: Callable[..., bool], parent: QWidget | None = None):
        super().__init__(parent)
        self.request = request
        self.method = QComboBox()
        self.method.addItems(list(METHODS))
        self.method.setToolTip("Occlusion needs only forward passes; the others follow gradients")
        self.target = QComboBox()
        self.target.addItem("predicted class", None)
        self.target.setToolTip("The class whose evidence is shown")
        self.method.currentIndexChanged.connect(lambda _i: self.refresh())
        self.target.currentIndexChanged.connect(lambda _i: self.refresh())
        self.pictures = [QLabel(alignment=Qt.AlignmentFlag.AlignCenter) for _ in range(3)]
        for label in self.pictures:
            label.setFixedSize(TILE, TILE)
        self.top = muted("")
        self.status = muted("Pick an image to explain.")
        row = QHBoxLayout()
        row.addWidget(QLabel("Method"))
        row.addWidget(self.method)
        row.addWidget(QLabel("Class"))
        row.addWidget(self.target)
        row.addStretch(1)
        images = QHBoxLayout()
        for label in self.pictures:
            images.addWidget(label)
        images.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(images)
        layout.addWidget(self.top)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def set_classes(self, classes: list[str]) -> None:
        self.target.blockSignals(True)
        self.target.clear()
        self.target.addItem("predicted class", None)
        for i, name in enumerate(classes):
            self.target.addItem(name, i)
        self.target.blockSignals(False)

    def refresh(self) -> None:
        if not self.isVisible():
            return
        method = METHODS[self.method.currentText()]
        self.status.setText(f"Computing {self.method.currentText()}…")
        sent = self.request("saliency", {"method": method, "class_index": self.target.currentData()},
                            self._arrived, key="saliency", image=True)
        if not sent:
            self.status.setText("Pick an image to explain.")

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.refresh()

    def _arrived(self, answer: dict[str, Any], out: str) -> None:
        if not answer.get("ok"):
            self.status.setText(answer.get("error", "failed"))
            for label in self.pictures:
                label.clear()
            return
        with np.load(out) as data:
            heat, image = data["heat"], data["image"]
        base = image if image.shape[-1] == 3 else np.repeat(image[..., :1], 3, axis=-1)
        for label, picture in zip(self.pictures, (base, colormap(heat), overlay(image, heat)), strict=True):
            label.setPixmap(array_to_pixmap(picture, TILE))
        self.top.setText("Top 5: " + ", ".join(f"{name} {p:.1%}" for name, p in answer["top"]))
        self.status.setText(f"{self.method.currentText()} for class {answer['class_name']}")
