"""The Export panel's "Try the model" widgets: a drop area for image files and one result card
per classified image (the input as the model sees it, its Grad-CAM overlay, the top classes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QFrame, QHBoxLayout, QLabel, QVBoxLayout

from cnnstudio.data import formats
from cnnstudio.gui.panels.common import array_to_pixmap
from cnnstudio.gui.panels.confusion import ClassBars


class DropArea(QLabel):
    """Drop image files here (or click to choose)."""

    def __init__(self, on_files, parent=None):
        super().__init__("Drop images here to classify them\n(or click to choose files)", parent)
        self.on_files = on_files
        self.setAcceptDrops(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumHeight(90)
        self.setStyleSheet("QLabel { border: 2px dashed #8b94a3; border-radius: 8px; color: #687284; }")

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if any(formats.is_candidate(u.toLocalFile()) for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        files = [u.toLocalFile() for u in event.mimeData().urls() if formats.is_candidate(u.toLocalFile())]
        event.acceptProposedAction()
        self.on_files(files)

    def mousePressEvent(self, _event) -> None:  # noqa: N802
        files, _ = QFileDialog.getOpenFileNames(self, "Images to classify", "", "Images (*.png *.jpg *.jpeg *.bmp "
                                                "*.gif *.webp *.tif *.tiff)")
        if files:
            self.on_files(files)


class ResultCard(QFrame):
    def __init__(self, result: dict[str, Any], image: np.ndarray | None, cam: np.ndarray | None):
        super().__init__(objectName="ResultCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        row = QHBoxLayout(self)
        for array, tip in ((image, "input as the model sees it"), (cam, "Grad-CAM: where the evidence is")):
            label = QLabel()
            label.setFixedSize(112, 112)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setToolTip(tip)
            if array is not None:
                label.setPixmap(array_to_pixmap(array, 112))
            else:
                label.setText("—")
            row.addWidget(label)
        column = QVBoxLayout()
        column.addWidget(QLabel(f"<b>{Path(result['image']).name}</b>"))
        self.bars = ClassBars(probabilities=True)
        top = result["top"]
        self.bars.set_values([t["probability"] for t in top], [t["class"] for t in top])
        column.addWidget(self.bars)
        row.addLayout(column, 1)
