"""Colours of the editor and the light/dark palette that follows the system."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

# Category strip colours: distinct hues of similar weight, readable on light and dark.
CATEGORY_COLOURS = {
    "Input": "#5b8def",
    "Convolution": "#2f9e8f",
    "Pooling": "#3f7fbf",
    "Normalization": "#9b6bd3",
    "Activation": "#e0a030",
    "Regularization": "#8a8f98",
    "Dense": "#d2553f",
    "Merge": "#c2439a",
    "Reshape": "#6c8a3a",
    "Block": "#4a5a78",
}
ERROR = QColor("#d64541")
WARNING = QColor("#e3a21a")
ACCENT = QColor("#3d7eff")


def category_colour(category: str) -> QColor:
    return QColor(CATEGORY_COLOURS.get(category, "#888888"))


def is_dark() -> bool:
    """Dark when the system says so; CNNSTUDIO_THEME=dark|light overrides (screenshots, tests)."""
    forced = os.environ.get("CNNSTUDIO_THEME", "").lower()
    if forced in ("dark", "light"):
        return forced == "dark"
    app = QGuiApplication.instance()
    if app is None:
        return False
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    if scheme is not None and scheme() == Qt.ColorScheme.Dark:
        return True
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


class Colours:
    """Canvas colours for the current scheme (light or dark)."""

    def __init__(self, dark: bool):
        self.dark = dark
        if dark:
            self.canvas = QColor("#1e2127")
            self.grid = QColor("#262a31")
            self.card = QColor("#2b3038")
            self.card_border = QColor("#3a404a")
            self.text = QColor("#e6e8eb")
            self.muted = QColor("#9aa3ad")
            self.edge = QColor("#6c7582")
            self.block = QColor("#262c36")
        else:
            self.canvas = QColor("#f4f5f7")
            self.grid = QColor("#e8eaee")
            self.card = QColor("#ffffff")
            self.card_border = QColor("#cfd4dc")
            self.text = QColor("#1d2330")
            self.muted = QColor("#687284")
            self.edge = QColor("#8b94a3")
            self.block = QColor("#eef2f8")


_current: Colours | None = None


def colours() -> Colours:
    global _current
    if _current is None:
        _current = Colours(is_dark())
    return _current


# The Disabled group: text at roughly half contrast, buttons sinking into the window colour.
DISABLED_LIGHT = {
    QPalette.ColorRole.WindowText: "#9aa1ad",
    QPalette.ColorRole.Text: "#9aa1ad",
    QPalette.ColorRole.ButtonText: "#a3a9b4",
    QPalette.ColorRole.Button: "#e8eaee",
    QPalette.ColorRole.Base: "#f3f4f6",
    QPalette.ColorRole.Highlight: "#b9c3d6",
    QPalette.ColorRole.PlaceholderText: "#b4bac4",
    QPalette.ColorRole.Light: "#eceef2",
}
DISABLED_DARK = {
    QPalette.ColorRole.WindowText: "#6b727d",
    QPalette.ColorRole.Text: "#6b727d",
    QPalette.ColorRole.ButtonText: "#656c77",
    QPalette.ColorRole.Button: "#272a31",
    QPalette.ColorRole.Base: "#20232a",
    QPalette.ColorRole.Highlight: "#3a4458",
    QPalette.ColorRole.PlaceholderText: "#555c66",
    QPalette.ColorRole.Light: "#2a2e35",
}


def applied(app: QApplication) -> bool:
    """Whether `apply` has styled this application (it then follows the system scheme itself)."""
    return bool(app.property("cnnstudio_theme_follow"))


def apply(app: QApplication) -> None:
    """Fusion style with a palette matching the system scheme."""
    global _current
    app.setStyle("Fusion")
    dark = is_dark()
    palette = QPalette()
    if dark:
        roles = {
            QPalette.ColorRole.Window: "#24272e",
            QPalette.ColorRole.WindowText: "#e6e8eb",
            QPalette.ColorRole.Base: "#1c1f25",
            QPalette.ColorRole.AlternateBase: "#262a31",
            QPalette.ColorRole.Text: "#e6e8eb",
            QPalette.ColorRole.Button: "#2d3139",
            QPalette.ColorRole.ButtonText: "#e6e8eb",
            QPalette.ColorRole.ToolTipBase: "#2d3139",
            QPalette.ColorRole.ToolTipText: "#e6e8eb",
            QPalette.ColorRole.PlaceholderText: "#7d8590",
            QPalette.ColorRole.Highlight: "#3d7eff",
            QPalette.ColorRole.HighlightedText: "#ffffff",
            QPalette.ColorRole.Mid: "#3a404a",
        }
    else:
        roles = {
            QPalette.ColorRole.Window: "#f0f1f4",
            QPalette.ColorRole.WindowText: "#1d2330",
            QPalette.ColorRole.Base: "#ffffff",
            QPalette.ColorRole.AlternateBase: "#f6f7f9",
            QPalette.ColorRole.Text: "#1d2330",
            QPalette.ColorRole.Button: "#f7f8fa",
            QPalette.ColorRole.ButtonText: "#1d2330",
            QPalette.ColorRole.ToolTipBase: "#ffffff",
            QPalette.ColorRole.ToolTipText: "#1d2330",
            QPalette.ColorRole.PlaceholderText: "#8a93a3",
            QPalette.ColorRole.Highlight: "#3d7eff",
            QPalette.ColorRole.HighlightedText: "#ffffff",
            QPalette.ColorRole.Mid: "#cfd4dc",
        }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    # setColor(role, ...) fills every group, Disabled included: disabled buttons and labels would
    # draw exactly like enabled ones. Give the Disabled group faded text and flatter buttons.
    disabled = DISABLED_DARK if dark else DISABLED_LIGHT
    for role, colour in disabled.items():
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(colour))
    app.setPalette(palette)
    _current = Colours(dark)
    app.setStyleSheet(_STYLE_DARK if dark else _STYLE_LIGHT)
    if not app.property("cnnstudio_theme_follow"):
        # Follow the system when it switches between light and dark while the app runs.
        app.setProperty("cnnstudio_theme_follow", True)
        QGuiApplication.styleHints().colorSchemeChanged.connect(lambda _scheme: _refresh(app))


def _refresh(app: QApplication) -> None:
    apply(app)
    for widget in app.allWidgets():
        if hasattr(widget, "resetCachedContent"):  # graphics views cache their background
            widget.resetCachedContent()
            widget.viewport().update()


_STYLE_COMMON = """
QToolTip { padding: 4px 6px; }
QListWidget#SectionRail { border: none; padding-top: 6px; font-weight: 600; }
QListWidget#SectionRail::item { padding: 10px 6px; border-radius: 6px; margin: 2px 6px; }
QLabel#PanelTitle { font-weight: 600; padding: 6px 2px 2px 2px; }
QLabel#FieldError { color: #d64541; }
QFrame#RecoveryBar { border-radius: 6px; padding: 2px; }
QStatusBar QLabel { padding: 0 8px; }
QLineEdit[invalid="true"] { border: 1px solid #d64541; border-radius: 3px; }
QTabWidget::pane { border: none; }
"""
_STYLE_LIGHT = _STYLE_COMMON + """
QListWidget#SectionRail { background: #e4e7ec; }
QListWidget#SectionRail::item:selected { background: #ffffff; color: #1d2330; }
QLabel#Muted { color: #687284; }
QLabel#Muted:disabled { color: #a3a9b4; }
QFrame#RecoveryBar { background: #fff4d6; border: 1px solid #e3c46b; }
"""
_STYLE_DARK = _STYLE_COMMON + """
QListWidget#SectionRail { background: #1b1e23; }
QListWidget#SectionRail::item:selected { background: #2f3540; color: #ffffff; }
QLabel#Muted { color: #9aa3ad; }
QLabel#Muted:disabled { color: #656c77; }
QFrame#RecoveryBar { background: #3b3320; border: 1px solid #7a6426; }
"""
