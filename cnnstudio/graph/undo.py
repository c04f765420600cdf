"""The one undo stack of the core: graph edits and settings edits alike (no Qt).

Commands are objects with `do(target)` and `undo(target)` (cnnstudio.graph.commands for the
graph, cnnstudio.project.commands for settings); the app's undo menu and shortcuts drive this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class UndoStack:
    """A pure undo stack: push runs the command on the target; undo/redo walk the history.

    The target is what the commands edit: a Graph here, a Project for the project's one stack
    (cnnstudio.project.model). A command with `merge(next) -> bool` absorbs the next one of
    its kind (typing in one field is one undo step); listeners hear every change.
    """

    def __init__(self, target: Any, limit: int = 1000):
        self.target = target
        self.limit = limit
        self._done: list[Any] = []
        self._undone: list[Any] = []
        self._clean_depth: int | None = 0
        self._listeners: list[Callable[[], None]] = []

    @property
    def graph(self) -> Any:
        return self.target

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback()` after every push, undo, redo or clean-state change; returns the unsubscriber."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def _changed(self) -> None:
        for callback in list(self._listeners):
            callback()

    def push(self, command: Any) -> None:
        command.do(self.target)
        self._undone.clear()
        if self._clean_depth is not None and self._clean_depth > len(self._done):
            self._clean_depth = None  # the clean state was in the discarded redo branch
        top = self._done[-1] if self._done else None
        merge = getattr(top, "merge", None)
        if top is not None and merge is not None and self._clean_depth != len(self._done) and merge(command):
            self._changed()
            return
        self._done.append(command)
        if len(self._done) > self.limit:
            self._done.pop(0)
            if self._clean_depth is not None:
                self._clean_depth -= 1
                if self._clean_depth < 0:
                    self._clean_depth = None
        self._changed()

    def undo(self) -> bool:
        if not self._done:
            return False
        command = self._done.pop()
        command.undo(self.target)
        self._undone.append(command)
        self._changed()
        return True

    def redo(self) -> bool:
        if not self._undone:
            return False
        command = self._undone.pop()
        command.do(self.target)
        self._done.append(command)
        self._changed()
        return True

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    @property
    def undo_command(self) -> Any:
        """The command Undo would revert (None when there is none)."""
        return self._done[-1] if self._done else None

    @property
    def redo_command(self) -> Any:
        return self._undone[-1] if self._undone else None

    @property
    def undo_label(self) -> str:
        return self._done[-1].label if self._done else ""

    @property
    def redo_label(self) -> str:
        return self._undone[-1].label if self._undone else ""

    def set_clean(self) -> None:
        self._clean_depth = len(self._done)
        self._changed()

    def reset_clean(self) -> None:
        """No state of the history is saved (a project made but never written)."""
        self._clean_depth = None
        self._changed()

    @property
    def is_clean(self) -> bool:
        return self._clean_depth == len(self._done)

    def clear(self) -> None:
        self._done.clear()
        self._undone.clear()
        self._clean_depth = 0
        self._changed()
