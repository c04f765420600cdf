"""Errors a user can cause. Each message names the file, node or field and what to do."""

from __future__ import annotations


class StudioError(Exception):
    """Base of every error the CLI prints as `error: ...` and the GUI shows in place."""


class ProjectFileError(StudioError):
    """A project file is missing, unreadable, malformed or from an unknown version."""


class GraphError(StudioError):
    """The architecture is invalid (cycle, bad parameter, shape mismatch...)."""

    def __init__(self, message: str, node: str | None = None):
        super().__init__(message)
        self.node = node


class ParameterError(GraphError):
    """A parameter value is out of range or of the wrong kind."""

    def __init__(self, message: str, node: str | None = None, field: str | None = None):
        super().__init__(message, node)
        self.field = field


class DatasetError(StudioError):
    """The image folder cannot be used (missing, empty class, single class...)."""


class TrainingError(StudioError):
    """A run cannot start or continue (bad run directory, no checkpoint...)."""


class ExportError(StudioError):
    """An export or a prediction cannot be made."""


class UnsupportedLayerError(StudioError):
    """A Keras model uses layers the catalogue does not know."""
