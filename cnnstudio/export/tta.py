"""Baking test-time augmentation into an export (SavedModel only): an opt-in, verified option.

The exported graph averages the class probabilities of the same views, with the same code
(cnnstudio.training.tta), as the app's evaluation, so the export answers what the run's
validation measured. The verification compares the export against this TTA model.
"""

from __future__ import annotations

from typing import Any

from cnnstudio.errors import ExportError

CHOICES = ("none", "flip", "shifts", "flip_shifts", "run")
HELP = ("SavedModel only: average the predictions over test-time views: flip (the mirror), shifts (four "
        "1/16-side shifts), flip_shifts (both), run (what the run evaluated with: its training.tta), "
        "none (default: the plain model, one pass per image)")


def resolve(mode: str, fmt: str, source: Any) -> str:
    """The TTA views to bake in: `run` reads the run's setting; errors name the option."""
    if mode not in CHOICES:
        raise ExportError(f"--tta must be one of {', '.join(CHOICES)}. Received: {mode!r}")
    if mode == "run":
        project = getattr(source, "project", None) or {}
        mode = str((project.get("training") or {}).get("tta", "none"))
    if mode != "none" and fmt != "savedmodel":
        raise ExportError(f"--tta bakes test-time augmentation into a SavedModel only; --format {fmt} exports "
                          "the plain model. Use --format savedmodel, or leave --tta out.")
    return mode


def bake(serving: Any, mode: str, card: dict[str, Any], notes: list[str]) -> Any:
    """`serving` averaged over the TTA views (unchanged for "none"); the card and notes say so."""
    if mode == "none":
        return serving
    from cnnstudio.training.tta import view_count, with_tta

    card["test_time_augmentation"] = mode
    notes.append(f"Test-time augmentation baked in ({mode}): each image is predicted {view_count(mode)} times "
                 "and the probabilities averaged, as the app's evaluation does.")
    return with_tta(serving, mode)
