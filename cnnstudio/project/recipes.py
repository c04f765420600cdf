"""Recipes: named sets of settings a user picks in one click. Pure Python.

A recipe looks at a project (its input size, its augmentation) and returns the setting
changes it wants as (section, key, value) triples. It touches only the preprocessing,
augmentation and training sections: never the architecture, the dataset or the split.
`diff` shows what applying would change; the GUI applies the changes through its undoable
SetSetting commands, the worker applies them to a run's copy of the project (`apply`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cnnstudio.errors import ProjectFileError
from cnnstudio.project import schema

Change = tuple[str, str, Any]  # (section, key, new value)

#: Settings the techniques of this module add; `quick` turns them all off.
EXTRAS: tuple[Change, ...] = (
    ("training", "ema", False),
    ("training", "tta", "none"),
    ("training", "mixup_alpha", 0.0),
    ("training", "cutmix_alpha", 0.0),
    ("training", "label_smoothing", 0.0),
    ("training", "class_weights", "none"),
    ("training", "head_epochs", 0),
    ("training", "backbone_lr_factor", 1.0),
)


@dataclass(frozen=True)
class Recipe:
    name: str
    summary: str
    changes: Callable[[Any], list[Change]]  # project -> changes


@dataclass(frozen=True)
class SettingDiff:
    section: str
    key: str
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{self.section}.{self.key}: {self.old!r} -> {self.new!r}"


def input_side(project: Any) -> tuple[int, int]:
    """(shorter image side, channels) of the architecture's input; (0, 0) when unknown."""
    for name in project.graph.inputs():
        params = project.graph[name].params
        height, width = params.get("height"), params.get("width")
        if isinstance(height, int) and isinstance(width, int):
            return min(height, width), int(params.get("channels") or 0)
    return 0, 0


def _quick(project: Any) -> list[Change]:
    return [("training", "epochs", 5), *EXTRAS]


def _small_data(project: Any) -> list[Change]:
    side, channels = input_side(project)
    aug = project.augmentation
    changes: list[Change] = [
        ("training", "schedule", "one_cycle"),
        ("training", "label_smoothing", 0.1),
        ("training", "ema", True),
        ("training", "ema_decay", 0.998),
        ("training", "ema_warmup", True),
        # Mirroring is left to the user (it breaks digits and text); TTA mirrors only if training does.
        ("training", "tta", "flip_shifts" if aug.get("flip_horizontal") else "shifts"),
    ]
    # Small inputs lose their content to crops and big zooms: shift and rotate a little instead.
    if 0 < side <= 48:
        changes += [("augmentation", "translation", 0.1), ("augmentation", "rotation", 10.0),
                    ("augmentation", "zoom", 0.1)]
    else:
        changes += [("augmentation", "random_crop", 0.1), ("augmentation", "translation", 0.1),
                    ("augmentation", "rotation", 10.0), ("augmentation", "zoom", 0.15)]
    if channels == 3:
        changes += [("augmentation", "brightness", 0.1), ("augmentation", "contrast", 0.1)]
    return changes


def _imbalanced(project: Any) -> list[Change]:
    return [("training", "class_weights", "balanced"), ("training", "best_metric", "macro_f1")]


def _finetune(project: Any) -> list[Change]:
    return [("training", "head_epochs", 1), ("training", "backbone_lr_factor", 0.1),
            ("training", "schedule", "one_cycle")]


RECIPES: dict[str, Recipe] = {recipe.name: recipe for recipe in (
    Recipe("quick", "A fast first look: 5 epochs, every extra (EMA, TTA, mixing, class weights, label "
           "smoothing, staged fine-tuning) off.", _quick),
    Recipe("small-data", "Best accuracy on a few thousand images: augmentation suited to the input size, "
           "one-cycle schedule, label smoothing 0.1, weight averaging (EMA), test-time augmentation.",
           _small_data),
    Recipe("imbalanced", "Classes of very different sizes: balanced class weights, best checkpoint by "
           "macro-F1 (balanced accuracy and macro-F1 are reported every epoch).", _imbalanced),
    Recipe("finetune", "Pretrained weights (import-keras, finetune): train the classifier alone for one "
           "epoch, then every layer with the backbone at 1/10 of the rate, one-cycle schedule.", _finetune),
)}


def get_recipe(name: str) -> Recipe:
    recipe = RECIPES.get(name)
    if recipe is None:
        raise ProjectFileError(f"Unknown recipe {name!r}; known recipes: {', '.join(RECIPES)} "
                               "(`cnnstudio recipes` describes them).")
    return recipe


def recipe_changes(name: str, project: Any, keep: tuple[tuple[str, str], ...] = ()) -> list[Change]:
    """The recipe's checked changes, its own name recorded, minus the (section, key) pairs in `keep`."""
    changes = [*get_recipe(name).changes(project), ("training", "recipe", name)]
    out: list[Change] = []
    for section, key, value in changes:
        if (section, key) in keep:
            continue
        spec = next(s for s in schema.SECTIONS[section] if s.name == key)
        out.append((section, key, spec.check(value, f"recipe {name}")))
    return out


def diff(project: Any, changes: list[Change]) -> list[SettingDiff]:
    """The changes that would alter the project, with the current values."""
    out = []
    for section, key, value in changes:
        old = project.section(section).get(key)
        if old != value:
            out.append(SettingDiff(section, key, old, value))
    return out


def apply(project: Any, changes: list[Change]) -> None:
    """Apply changes in place (the worker's copy of a project; the GUI goes through commands)."""
    for section, key, value in changes:
        project.section(section)[key] = value
