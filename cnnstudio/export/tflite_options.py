"""The TFLite export's options, defined once: `cnnstudio export` registers its flags from this
table, the GUI's Export panel generates its fields from it, and the exporter checks values
against it. Pure Python (no TensorFlow, no Qt).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnnstudio.errors import ExportError

QUANTIZE_MODES = ("none", "dynamic", "float16", "int8")
IO_TYPES = ("uint8", "int8")
DEFAULT_CALIBRATION = 200
DEFAULT_THRESHOLD = 1.0  # accuracy points


@dataclass(frozen=True)
class TFLiteOption:
    """One option: its keyword in exporter.export(), its CLI flag, its GUI label and rule."""

    key: str  # keyword argument of cnnstudio.export.exporter.export
    flag: str  # the CLI flag
    label: str  # the GUI field's label
    kind: str  # "choice", "int" or "float"
    default: Any
    help: str  # one line: what it does
    choices: dict[str, str] = field(default_factory=dict)  # value -> what it means
    minimum: float | None = None
    maximum: float | None = None
    metavar: str | None = None
    quantize: tuple[str, ...] = QUANTIZE_MODES  # the --quantize modes it applies to
    suffix: str = ""  # unit shown after a number field

    def applies(self, quantize: str) -> bool:
        return quantize in self.quantize

    def cli_help(self) -> str:
        where = "TFLite only" if self.quantize == QUANTIZE_MODES else f"--quantize {'/'.join(self.quantize)} only"
        choices = "; ".join(f"{name}: {text}" for name, text in self.choices.items())
        default = self.default if isinstance(self.default, str) else f"{self.default:g}"
        return f"{where}: {self.help}." + (f" {choices}." if choices else "") + f" Default: {default}."

    def check(self, value: Any, quantize: str) -> Any:
        """The value, or ExportError naming the flag, the rule and the value received."""
        if value is None:
            return self.default
        if self.kind == "choice" and value not in self.choices:
            raise ExportError(f"{self.flag} must be one of {', '.join(self.choices)}. Received: {value!r}")
        if not self.applies(quantize):
            raise ExportError(f"{self.flag} applies to --quantize {' or '.join(self.quantize)} only. "
                              f"Received: --quantize {quantize}")
        if self.minimum is not None and value < self.minimum:
            raise ExportError(f"{self.flag} must be at least {self.minimum:g}. Received: {value}")
        if self.maximum is not None and value > self.maximum:
            raise ExportError(f"{self.flag} must be at most {self.maximum:g}. Received: {value}")
        return value


QUANTIZE = TFLiteOption(
    "quantize", "--quantize", "Quantisation", "choice", "none",
    "how weights and activations are stored and computed",
    choices={"none": "float32 weights and activations",
             "dynamic": "int8 weights, float activations (dynamic-range quantisation)",
             "float16": "float16 weights, float32 computation",
             "int8": "full-integer: int8 weights and activations, built-in int8 ops only, calibrated on "
                     "the project's training images"})
IO_TYPE = TFLiteOption(
    "io_type", "--io", "Integer I/O", "choice", "uint8",
    "the full-integer model's input and output type; the input takes raw pixels through its "
    "quantisation parameters (preprocessing is inside)",
    choices={"uint8": "pixels as they are (scale 1, zero point 0)",
             "int8": "pixels shifted by -128 (scale 1, zero point -128)"},
    quantize=("int8",))
CALIBRATION = TFLiteOption(
    "calibration", "--calibration", "Calibration images", "int", DEFAULT_CALIBRATION,
    "training images int8 calibrates on, a sample stratified by class",
    minimum=1, maximum=100_000, metavar="N", quantize=("int8",), suffix=" images")
THRESHOLD = TFLiteOption(
    "threshold", "--max-accuracy-loss", "Warn above a loss of", "float", DEFAULT_THRESHOLD,
    "accuracy points a quantised flavour may lose against the float model on the validation "
    "images before the report warns", minimum=0, maximum=100, metavar="POINTS", suffix=" points")

OPTIONS: tuple[TFLiteOption, ...] = (QUANTIZE, IO_TYPE, CALIBRATION, THRESHOLD)
QUANTIZE_HELP = QUANTIZE.choices


def check_options(values: dict[str, Any]) -> dict[str, Any]:
    """Every option's value (defaults filled in) from {key: value or None}; ExportError when one
    is out of range or given for a quantisation it does not apply to."""
    quantize = values.get("quantize") or QUANTIZE.default
    QUANTIZE.check(quantize, quantize)
    return {option.key: option.check(values.get(option.key), quantize) for option in OPTIONS}


def cli_arguments(values: dict[str, Any]) -> list[str]:
    """The flags that give `values` to `cnnstudio export` (only the options the quantisation uses)."""
    quantize = values.get("quantize") or QUANTIZE.default
    arguments: list[str] = []
    for option in OPTIONS:
        value = values.get(option.key)
        if value is not None and option.applies(quantize):
            arguments += [option.flag, f"{value:g}" if isinstance(value, float) else str(value)]
    return arguments
