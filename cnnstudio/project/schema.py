"""The project's settings sections, declared once as ParamSpecs.

The project loader checks values with them, the GUI generates its settings forms from
them, and the CLI's `--set` reads them. Add a field here and it appears everywhere.
"""

from __future__ import annotations

from typing import Any

from cnnstudio.errors import ProjectFileError
from cnnstudio.graph.params import ParamSpec
from cnnstudio.optimizer_table import OPTIMIZERS

DATASET = (
    ParamSpec("folder", "text", "", "The image folder: one subfolder per class, or train/ val/ test/ "
              "each holding class subfolders. Relative paths are relative to the project file."),
    ParamSpec("validation_fraction", "float", 0.2, "Share of each class held out for validation "
              "(ignored when the folder has its own val/).", minimum=0.0, maximum=0.9,
              label="Validation share"),
    ParamSpec("test_fraction", "float", 0.0, "Share of each class held out for the final test "
              "(ignored when the folder has its own test/).", minimum=0.0, maximum=0.9, label="Test share"),
    ParamSpec("split_seed", "int", 42, "Seed of the stratified split: the same seed gives the same split.",
              minimum=0, maximum=2**31 - 1, label="Split seed"),
    ParamSpec("verify_decode", "bool", False, "Decode every image fully while scanning (slower, "
              "catches truncated files before training).", advanced=True),
)

PREPROCESSING = (
    ParamSpec("resize", "choice", "stretch", "How images reach the input size: stretch (ignore aspect), "
              "center_crop (crop the long side) or pad (letterbox with zeros).",
              choices=("stretch", "center_crop", "pad"), label="Resize"),
    ParamSpec("normalization", "choice", "rescale", "rescale to [0,1]; per_channel subtracts the mean "
              "and divides by the std of each channel; mean_image subtracts the mean image (AlexNet); "
              "pca/zca whiten: X_white = X_rot / sqrt(S + ε).",
              choices=("none", "rescale", "per_channel", "mean_image", "pca", "zca"), label="Normalization"),
    ParamSpec("whitening_epsilon", "float", None, "ε in X_white = X_rot / sqrt(S + ε). Empty: chosen from "
              "the data (a tenth of the mean eigenvalue S), which keeps the faint, noisy directions from "
              "being blown up; a smaller ε whitens harder.", minimum=0.0, maximum=1.0, optional=True,
              advanced=True, label="Whitening ε"),
    ParamSpec("statistics_images", "int", 2000, "How many training images the statistics are computed "
              "from (PCA/ZCA wants more images than values per image).", minimum=10, maximum=1_000_000,
              advanced=True, label="Images for statistics"),
)

AUGMENTATION = (
    ParamSpec("flip_horizontal", "bool", False, "Mirror left-right with probability 0.5.",
              label="Flip horizontally"),
    ParamSpec("flip_vertical", "bool", False, "Mirror top-bottom with probability 0.5.",
              label="Flip vertically"),
    ParamSpec("rotation", "float", 0.0, "Rotate by up to ± this many degrees.", minimum=0.0, maximum=180.0,
              label="Rotation (°)"),
    ParamSpec("translation", "float", 0.0, "Shift by up to ± this fraction of the size.", minimum=0.0,
              maximum=0.5),
    ParamSpec("zoom", "float", 0.0, "Random resize: zoom in or out by up to ± this fraction.", minimum=0.0,
              maximum=0.9, label="Zoom (random resize)"),
    ParamSpec("random_crop", "float", 0.0, "Crop a random window of (1 − this) of the size, then "
              "resize back.", minimum=0.0, maximum=0.5),
    ParamSpec("brightness", "float", 0.0, "Colour jitter: change brightness by up to ± this fraction.",
              minimum=0.0, maximum=1.0),
    ParamSpec("contrast", "float", 0.0, "Colour jitter: change contrast by up to ± this fraction.",
              minimum=0.0, maximum=1.0),
    ParamSpec("saturation", "float", 0.0, "Colour jitter: change saturation by up to ± this fraction.",
              minimum=0.0, maximum=1.0),
    ParamSpec("hue", "float", 0.0, "Colour jitter: shift hue by up to ± this fraction of the circle.",
              minimum=0.0, maximum=0.5),
    ParamSpec("probability", "float", 1.0, "Chance that each image is augmented at all.", minimum=0.0,
              maximum=1.0, advanced=True),
)

TRAINING = (
    ParamSpec("optimizer", "choice", "adam", "How weights move along the gradient: SGD with momentum "
              "(AlexNet, ResNet), Nesterov, Adam, AdamW (decoupled weight decay), RMSprop.",
              choices=tuple(OPTIMIZERS)),
    ParamSpec("learning_rate", "float", 1e-3, "Step size of each update (AlexNet: 1e-2 with SGD).",
              minimum=1e-8, maximum=10.0, label="Learning rate"),
    ParamSpec("momentum", "float", 0.9, "Fraction of the previous update kept (SGD momentum, "
              "RMSprop).", minimum=0.0, maximum=0.999, advanced=True),
    ParamSpec("schedule", "choice", "constant", "How the learning rate changes: constant, step (× γ "
              "every N epochs), exponential, cosine with warm-up, plateau (÷10 when validation "
              "accuracy stops improving, the AlexNet recipe), or one_cycle (warm up from rate/25 to "
              "the rate, then anneal to rate/10⁴ along a cosine, as in fastai's fit_one_cycle).",
              choices=("constant", "step", "exponential", "cosine", "plateau", "one_cycle")),
    ParamSpec("step_epochs", "int", 30, "Step schedule: epochs between drops.", minimum=1, maximum=10000,
              advanced=True),
    ParamSpec("gamma", "float", 0.1, "Step/exponential schedule: factor per drop or per epoch.",
              minimum=1e-6, maximum=1.0, advanced=True),
    ParamSpec("warmup_epochs", "int", 0, "Cosine schedule: epochs of linear warm-up.", minimum=0,
              maximum=1000, advanced=True),
    ParamSpec("one_cycle_warmup", "float", 0.25, "One-cycle schedule: share of the run spent warming up.",
              minimum=0.0, maximum=0.9, advanced=True, label="One-cycle warm-up share"),
    ParamSpec("plateau_patience", "int", 3, "Plateau schedule: epochs without improvement before "
              "dividing the rate by 10.", minimum=1, maximum=1000, advanced=True),
    ParamSpec("batch_size", "int", 32, "Images per step (AlexNet: 128). Larger needs more memory.",
              minimum=1, maximum=65536, label="Batch size"),
    ParamSpec("epochs", "int", 10, "Passes over the training images.", minimum=1, maximum=100000),
    ParamSpec("label_smoothing", "float", 0.0, "Soften one-hot targets by this much (0.1 is common).",
              minimum=0.0, maximum=0.5, advanced=True),
    ParamSpec("weight_decay", "float", 0.0, "Decoupled weight decay (AdamW/SGD); AlexNet used 5e-4.",
              minimum=0.0, maximum=1.0, label="Weight decay"),
    ParamSpec("gradient_clip", "float", 0.0, "Clip the gradient norm to this (0: off).", minimum=0.0,
              advanced=True),
    ParamSpec("early_stopping", "int", 0, "Stop after this many epochs without validation improvement "
              "(0: off).", minimum=0, maximum=10000, advanced=True),
    ParamSpec("seed", "int", 42, "Seed for weights, shuffling and augmentation.", minimum=0,
              maximum=2**31 - 1),
    ParamSpec("default_initializer", "initializer", {"name": "he_normal"}, "Initializer for every "
              "weighted layer that does not set its own (He normal suits ReLU).", optional=True,
              label="Default initializer"),
    ParamSpec("default_l1", "float", 0.0, "L1 penalty λ1 for every weighted layer without its own.",
              minimum=0.0, maximum=1.0, advanced=True, label="Default L1"),
    ParamSpec("default_l2", "float", 0.0, "L2 penalty λ2 (weight decay in the loss) for every weighted "
              "layer without its own.", minimum=0.0, maximum=1.0, label="Default L2"),
    ParamSpec("ema", "bool", False, "Keep an exponential moving average of the weights and evaluate, "
              "checkpoint-select and export it instead of the raw weights (smoother, often better).",
              label="Weight averaging (EMA)"),
    ParamSpec("ema_decay", "float", 0.999, "EMA: share of the average kept at each step (0.999 averages "
              "over about the last 1000 steps).", minimum=0.0, maximum=0.99999, advanced=True,
              label="EMA decay"),
    ParamSpec("ema_warmup", "bool", True, "EMA: use decay min(decay, (1 + n) / (10 + n)) at step n, so "
              "the first steps' random weights fade quickly.", advanced=True, label="EMA warm-up"),
    ParamSpec("tta", "choice", "none", "Test-time augmentation: average the predictions of the image and "
              "its mirror (flip), of four 1/16-size shifts (shifts), or both, at evaluation and, if chosen "
              "at export, in the exported model.", choices=("none", "flip", "shifts", "flip_shifts"),
              label="Test-time augmentation"),
    ParamSpec("class_weights", "choice", "none", "Weight each class's loss: balanced gives class c the "
              "weight N / (classes × N_c) from the training counts; manual reads manual_class_weights.",
              choices=("none", "balanced", "manual"), label="Class weights"),
    ParamSpec("manual_class_weights", "text", "", "Manual class weights, comma-separated in class order "
              "(e.g. 1, 4, 0.5).", advanced=True),
    ParamSpec("best_metric", "choice", "val_accuracy", "What picks the best checkpoint (and drives early "
              "stopping and the plateau schedule): validation accuracy, balanced accuracy (mean "
              "per-class recall) or macro-F1.", choices=("val_accuracy", "balanced_accuracy", "macro_f1"),
              label="Best checkpoint by"),
    ParamSpec("mixup_alpha", "float", 0.0, "Mixup: blend pairs of images and their labels with a "
              "Beta(α, α) weight (0: off; 0.2 is common).", minimum=0.0, maximum=10.0, advanced=True,
              label="Mixup α"),
    ParamSpec("cutmix_alpha", "float", 0.0, "CutMix: paste a box from another image, labels mixed by area, "
              "box share from Beta(α, α) (0: off; 1.0 is common).", minimum=0.0, maximum=10.0,
              advanced=True, label="CutMix α"),
    ParamSpec("mix_probability", "float", 1.0, "Chance that a batch is mixed (mixup or CutMix; with both "
              "on, each mixed batch picks one at random).", minimum=0.0, maximum=1.0, advanced=True,
              label="Mix probability"),
    ParamSpec("head_epochs", "int", 0, "Train only the classifier for this many epochs first (the rest "
              "frozen), then every layer (fastai's fine_tune).", minimum=0, maximum=10000, advanced=True,
              label="Classifier-only epochs"),
    ParamSpec("backbone_lr_factor", "float", 1.0, "Learning rate of every layer but the classifier, as a "
              "share of the rate (fine-tuning: 0.1).", minimum=0.0, maximum=1.0, advanced=True,
              label="Backbone rate factor"),
    ParamSpec("recipe", "choice", "none", "The recipe last applied to these settings (cnnstudio recipes "
              "lists them); editing a setting afterwards keeps the name as a record.",
              choices=("none", "quick", "small-data", "imbalanced", "finetune"), advanced=True),
    ParamSpec("mixed_precision", "bool", False, "Compute in float16 with float32 weights (GPUs with "
              "tensor cores: faster, less memory).", advanced=True),
    ParamSpec("xla", "bool", False, "Compile the train step with XLA (often faster on GPU).", advanced=True),
    ParamSpec("device", "text", "auto", "auto, cpu, gpu:N, or all (every local GPU).", advanced=True),
    ParamSpec("steps_per_execution", "int", 1, "Train steps per call into TensorFlow (higher hides "
              "Python overhead on fast GPUs).", minimum=1, maximum=1000, advanced=True),
)

SECTIONS: dict[str, tuple[ParamSpec, ...]] = {
    "dataset": DATASET,
    "preprocessing": PREPROCESSING,
    "augmentation": AUGMENTATION,
    "training": TRAINING,
}


def defaults(section: str) -> dict[str, Any]:
    return {spec.name: spec.default for spec in SECTIONS[section]}


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def allowed(spec: ParamSpec) -> str:
    """What a field accepts, in words: "a number from 1e-08 to 10", "one of adam, sgd"."""
    if spec.kind in ("int", "float"):
        what = "a whole number" if spec.kind == "int" else "a number"
        low, high = ((None if v is None else int(v)) for v in (spec.minimum, spec.maximum)) \
            if spec.kind == "int" else (spec.minimum, spec.maximum)
        if low is not None and high is not None:
            what += f" from {_number(low)} to {_number(high)}"
        elif low is not None:
            what += f" of at least {_number(low)}"
        elif high is not None:
            what += f" of at most {_number(high)}"
    elif spec.kind == "choice":
        what = "one of " + ", ".join(str(c) for c in spec.choices)
    elif spec.kind == "bool":
        what = "true or false"
    else:
        what = f"a {spec.kind}"
    return what + (" (or empty for the default)" if spec.optional else "")


def _shares(values: dict[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    validation = float(values.get("validation_fraction") or 0.0)
    test = float(values.get("test_fraction") or 0.0)
    if validation + test < 1.0:
        return []
    return [(("validation_fraction", "test_fraction"),
             f"Validation share ({validation:g}) + test share ({test:g}) = {validation + test:g} leaves no "
             "images for training: keep the sum below 1 (e.g. 0.2 + 0.1).")]


# Rules across the fields of a section: (field names involved, message) for each broken one.
RULES: dict[str, Any] = {"dataset": _shares}


def rule_problems(section: str, values: dict[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    """The section's cross-field rules that `values` break; generated forms show them on the fields."""
    rule = RULES.get(section)
    return rule(values) if rule is not None else []


def check_section(section: str, values: Any, where: str) -> dict[str, Any]:
    """Every field of a section, defaults filled in, each checked. Unknown fields are errors."""
    if not isinstance(values, dict):
        raise ProjectFileError(f"{where}: '{section}' must be an object.")
    specs = {spec.name: spec for spec in SECTIONS[section]}
    unknown = sorted(set(values) - set(specs))
    if unknown:
        raise ProjectFileError(
            f"{where}: '{section}' has unknown field {unknown[0]!r}; known fields: {', '.join(specs)}."
        )
    out = {}
    for name, spec in specs.items():
        try:
            out[name] = spec.check(values.get(name, spec.default), f"{where}: {section}")
        except Exception as exc:  # ParameterError -> file error naming the field
            raise ProjectFileError(str(exc)) from None
    for _names, message in rule_problems(section, out):
        raise ProjectFileError(f"{where}: {section}: {message}")
    return out


def weight_defaults(training: dict[str, Any]) -> dict[str, Any]:
    """Project-wide initializer and L1/L2 regularizer for layers that leave theirs empty."""
    l1, l2 = float(training.get("default_l1") or 0.0), float(training.get("default_l2") or 0.0)
    return {
        "initializer": training.get("default_initializer"),
        "regularizer": {"l1": l1, "l2": l2} if (l1 or l2) else None,
    }
