"""Settings that work against each other: said in warning events, never silently. Pure Python."""

from __future__ import annotations

from typing import Any


def setting_conflicts(project: Any, workers: int, replicas: int, total_steps: int,
                      val_count: int) -> list[tuple[str, str]]:
    """(code, message) for each combination of this run's settings that deserves a word."""
    training, augmentation = project.training, project.augmentation
    out: list[tuple[str, str]] = []
    mixing = float(training.get("mixup_alpha") or 0) > 0 or float(training.get("cutmix_alpha") or 0) > 0
    smoothing = float(training.get("label_smoothing") or 0)
    if mixing and smoothing:
        out.append(("mixup_label_smoothing", f"Mixup/CutMix already soften the targets; label smoothing "
                    f"{smoothing} softens them again (targets end up flatter than either alone). Usually one "
                    "of the two is enough: set label_smoothing to 0 or turn mixing off."))
    if mixing and training.get("class_weights", "none") != "none":
        out.append(("mixup_class_weights", "Mixup/CutMix with class weights: a mixed image is weighted by "
                    "the blend of its two classes' weights (λ·w_a + (1−λ)·w_b)."))
    if training.get("ema"):
        decay = float(training.get("ema_decay", 0.999))
        if workers > 1:
            out.append(("ema_multi_worker", f"Weight averaging (EMA) on {workers} workers: every worker "
                        "keeps its own copy of the average (the same numbers, as the weights are "
                        "synchronized each step), which costs one more copy of the weights in memory per "
                        "device; only the chief's copy is checkpointed."))
        horizon = 1.0 / max(1e-9, 1.0 - decay)
        if not training.get("ema_warmup", True) and total_steps < horizon:
            out.append(("ema_too_slow", f"EMA decay {decay} averages over about {horizon:.0f} steps but the "
                        f"run has {total_steps}: without warm-up the average stays close to the initial "
                        "random weights. Turn on ema_warmup or lower ema_decay."))
    tta = training.get("tta", "none")
    if "flip" in tta and not augmentation.get("flip_horizontal"):
        out.append(("tta_flip_untrained", "Test-time augmentation averages in the mirrored image, but training "
                    "never mirrors (augmentation.flip_horizontal is off): for digits or text that hurts. "
                    "Choose tta=shifts or turn on horizontal flips."))
    if training.get("best_metric", "val_accuracy") != "val_accuracy" and not val_count:
        out.append(("best_metric_no_validation", f"best_metric is {training['best_metric']} but the run has "
                    "no validation images: the best checkpoint is chosen by training accuracy."))
    head_epochs = int(training.get("head_epochs") or 0)
    if head_epochs and head_epochs >= int(training.get("epochs") or 0):
        out.append(("head_epochs_cover_run", f"head_epochs ({head_epochs}) is not below epochs "
                    f"({training.get('epochs')}): only the classifier ever trains."))
    if head_epochs and not project.weights and training.get("recipe") == "finetune":
        out.append(("finetune_without_weights", "The finetune recipe freezes the backbone first, but this "
                    "project has no pretrained weights: its backbone starts random. Import weights "
                    "(cnnstudio import-keras) or use `cnnstudio finetune`."))
    return out
