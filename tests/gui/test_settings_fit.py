"""The settings columns fit the window: at 1280x720 and 1440x900 the Training settings (with
their 'vary' toggles and "More" opened) and the Data settings tabs show no horizontal scroll
bar, and no field, toggle or choice is cut off."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QComboBox, QScrollArea, QToolButton, QWidget
from superqt import QCollapsible

SIZES = [(1280, 720), (1440, 900)]


def settle(qtbot, window, size) -> None:
    window.resize(*size)
    qtbot.waitUntil(lambda: window.size().toTuple() == size)
    for collapsible in window.stack.currentWidget().findChildren(QCollapsible):
        if collapsible.isVisible() and not collapsible.isExpanded():
            collapsible.expand(animate=False)
    page = window.stack.currentWidget()
    opened = [c for c in page.findChildren(QCollapsible) if c.isVisible()]
    # Opened all the way (the layouts they asked for have run).
    qtbot.waitUntil(lambda: all(c.isExpanded() and c.height() >= c.sizeHint().height() for c in opened))
    qtbot.waitUntil(lambda: all(a.widget().height() >= a.widget().minimumSizeHint().height()
                                for a in page.findChildren(QScrollArea) if a.isVisible()))


def assert_fits(area: QScrollArea) -> None:
    viewport, content = area.viewport(), area.widget()
    assert not area.horizontalScrollBar().isVisible()
    assert viewport.width() >= content.minimumSizeHint().width()
    right = viewport.width()
    for widget in content.findChildren(QWidget):
        if not widget.isVisibleTo(content) or not isinstance(widget, (QToolButton, QComboBox)):
            continue
        edge = widget.mapTo(viewport, QPoint(widget.width(), 0)).x()
        assert edge <= right, f"{widget.objectName() or type(widget).__name__} ends at {edge} > {right}"
        if isinstance(widget, QComboBox):  # its longest choice shows whole
            assert widget.width() >= widget.minimumSizeHint().width(), widget.currentText()


@pytest.mark.parametrize("size", SIZES)
def test_training_settings_fit_with_their_vary_toggles(window, qtbot, size):
    window.show_section("Training")
    panel = window.sections["Training"]
    settle(qtbot, window, size)
    area = next(a for a in panel.findChildren(QScrollArea) if a.widget() is panel.settings_host)
    toggles = area.widget().findChildren(QToolButton, "VaryToggle")
    assert len(toggles) > 10 and all(t.isVisibleTo(area.widget()) for t in toggles)
    assert area.verticalScrollBar().isVisible()  # the long form scrolls up and down only
    assert_fits(area)
    combo = panel.form.fields["best_metric"].editor
    combo.setCurrentIndex(combo.findText("balanced_accuracy"))
    assert combo.width() >= combo.minimumSizeHint().width()


@pytest.mark.parametrize("size", SIZES)
def test_data_settings_tabs_fit(window, qtbot, size):
    window.show_section("Data")
    panel = window.sections["Data"]
    for tab in range(panel.settings_tabs.count()):
        panel.settings_tabs.setCurrentIndex(tab)
        settle(qtbot, window, size)
        assert_fits(panel.settings_tabs.currentWidget())
