"""The project file. No Qt, no TensorFlow."""

from __future__ import annotations

from cnnstudio.project.file import FORMAT_VERSION, Project, load_project, save_project

__all__ = ["FORMAT_VERSION", "Project", "load_project", "save_project"]
