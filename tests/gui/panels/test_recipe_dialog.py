"""Recipes in the window: review the diff, apply as one undo step, imbalance suggestion."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from cnnstudio.gui.panels.recipe_dialog import RecipeRow, RecipeSuggestion, imbalance
from cnnstudio.project.file import Project
from cnnstudio.project.model import ProjectModel
from tests.gui.conftest import lenet_graph


@pytest.fixture
def model(qtbot):
    from cnnstudio.gui.app import _application

    _application()
    return ProjectModel(Project(graph=lenet_graph(), name="r"))


def _shot(widget, name: str) -> None:
    folder = os.environ.get("CNNSTUDIO_SHOTS")
    if folder:
        widget.grab().save(os.path.join(folder, name))


def test_review_then_apply_is_one_undo_step(qtbot, model):
    row = RecipeRow(model)
    qtbot.addWidget(row)
    row.show()
    row.chooser.setCurrentIndex(row.chooser.findData("small-data"))
    qtbot.mouseClick(row.button, Qt.MouseButton.LeftButton)
    dialog = row.dialog
    qtbot.waitUntil(dialog.isVisible)
    settings = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert "Training: Weight averaging (EMA)" in settings and "Augmentation: Translation" in settings
    ema = settings.index("Training: Weight averaging (EMA)")
    assert (dialog.table.item(ema, 1).text(), dialog.table.item(ema, 2).text()) == ("off", "on")
    _shot(dialog, "recipe_dialog.png")
    before = {s: dict(model.project.section(s)) for s in ("training", "augmentation")}
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel)  # present
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    training = model.project.training
    assert training["ema"] is True and training["recipe"] == "small-data"
    assert model.project.augmentation["translation"] == 0.1
    assert model.undo_label == "Apply recipe small-data"
    model.undo()
    assert {s: dict(model.project.section(s)) for s in ("training", "augmentation")} == before


def test_cancel_changes_nothing_and_an_applied_recipe_has_nothing_to_apply(qtbot, model):
    row = RecipeRow(model)
    qtbot.addWidget(row)
    row.chooser.setCurrentIndex(row.chooser.findData("imbalanced"))
    dialog = row.open_dialog()
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    assert model.project.training["class_weights"] == "none" and not model.can_undo
    dialog = row.open_dialog()
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert model.project.training["best_metric"] == "macro_f1"
    again = row.open_dialog()
    assert again.table.rowCount() == 0 and not again.apply_button.isEnabled()
    again.reject()


def test_strong_imbalance_suggests_the_imbalanced_recipe(qtbot, model):
    assert imbalance({"a": 400, "b": 40, "c": 0}) == (10.0, "a", "b")
    hint = RecipeSuggestion(lambda: model)
    qtbot.addWidget(hint)
    hint.show_for({"cat": 100, "dog": 90})
    assert hint.isHidden()
    hint.show_for({"cat": 400, "dog": 40})
    assert not hint.isHidden() and "10:1" in hint.text.text() and "'cat' has 10.0×" in hint.text.toolTip()
    hint.resize(700, 60)
    _shot(hint, "recipe_hint.png")
    dialog = hint.open_dialog()
    assert dialog.name == "imbalanced"
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(hint.isHidden)
    assert model.project.training["class_weights"] == "balanced"


def test_the_data_section_suggests_the_recipe_after_an_imbalanced_scan(studio, qtbot, tmp_path):
    from tests.gui.panels.helpers import make_image_folder

    panel = studio.sections["Data"]
    studio.show_section("Data")
    qtbot.waitUntil(lambda: panel.scan is not None, timeout=30_000)
    assert panel.recipe_hint.isHidden()  # 12 images in every class
    folder = make_image_folder(tmp_path / "skewed", broken=False)
    smallest = sorted(p for p in folder.iterdir() if p.is_dir())[0]
    for path in sorted(smallest.glob("*.png"))[2:]:
        path.unlink()  # 12 : 12 : 2
    panel.set_folder(folder)
    qtbot.waitUntil(lambda: panel.scan is not None and not panel.recipe_hint.isHidden(), timeout=30_000)
    assert "6:1" in panel.recipe_hint.text.text() and smallest.name in panel.recipe_hint.text.toolTip()
    qtbot.waitUntil(lambda: not panel.busy(), timeout=90_000)
    _shot(studio, "data_hint.png")
    dialog = panel.recipe_hint.open_dialog()
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert studio.model.project.training["class_weights"] == "balanced"
    qtbot.waitUntil(panel.recipe_hint.isHidden)


def test_the_recipe_row_does_not_claim_a_recipe_the_project_never_had(qtbot, model):
    assert model.project.training.get("recipe", "none") == "none"
    row = RecipeRow(model)
    qtbot.addWidget(row)
    assert row.chooser.currentData() is None and "none applied" in row.chooser.currentText()
    assert not row.button.isEnabled()  # nothing to review until a recipe is chosen
    row.chooser.setCurrentIndex(row.chooser.findData("quick"))
    assert row.button.isEnabled()
