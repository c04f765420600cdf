"""`cnnstudio export SOURCE --format savedmodel|keras|tflite|onnx|python -o OUT`
`cnnstudio export SOURCE --format tflite --quantize none|dynamic|float16|int8 [--calibration N] -o OUT.tflite`
(int8 also takes `--io uint8|int8`; every flavour `--max-accuracy-loss POINTS`)

SOURCE is a run directory (`--checkpoint best|last`), a .keras file or a project (keras and
python formats only). Every export is verified in a fresh process; the command exits 1 when
verification fails, 2 for a user error. A TFLite export also reports, on the run's
validation images, each flavour's accuracy, agreement with the float model, size and CPU
latency, with a warning when a quantised flavour loses more than the threshold.
"""

from __future__ import annotations

import argparse
import json
import sys

from cnnstudio.export.tflite_options import OPTIONS
from cnnstudio.export.tta import CHOICES as TTA_CHOICES
from cnnstudio.export.tta import HELP as TTA_HELP

FORMATS = {
    "savedmodel": "TensorFlow SavedModel folder: raw uint8 images or encoded bytes in, labels out",
    "keras": "Keras .keras file (full model, for fine-tuning)",
    "tflite": "TFLite flatbuffer: float32, dynamic, float16 or full-integer int8 (--quantize)",
    "onnx": "ONNX graph (needs the [onnx] extra)",
    "python": "Python source that rebuilds the architecture with Keras",
}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "export", help="export a trained model (or a project's architecture) and verify the result",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="formats:\n" + "\n".join(f"  {name:<11} {text}" for name, text in FORMATS.items()),
    )
    parser.add_argument("source", metavar="SOURCE", help="run directory, .keras file or project file")
    parser.add_argument("--format", "-f", required=True, choices=tuple(FORMATS), help="what to write")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="file or folder to write")
    parser.add_argument("--checkpoint", choices=("best", "last"), default=None,
                        help="which checkpoint of a run directory (default: best, else last)")
    for option in OPTIONS:  # the TFLite options (the GUI's Export panel is generated from the same table)
        kind = {"int": {"type": int}, "float": {"type": float}}.get(option.kind, {"choices": tuple(option.choices)})
        # None when not given: the exporter refuses an option the chosen quantisation does not use.
        parser.add_argument(option.flag, dest=option.key, default=None, metavar=option.metavar,
                            help=option.cli_help(), **kind)
    parser.add_argument("--tta", choices=TTA_CHOICES, default="none", help=TTA_HELP)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from cnnstudio.export.exporter import export

    log = None if args.json else (lambda message: print(f"  {message}", file=sys.stderr))
    report = export(args.source, args.format, args.output, checkpoint=args.checkpoint, log=log,
                    quantize=args.quantize or "none", calibration=args.calibration, threshold=args.threshold,
                    io_type=args.io_type, tta=args.tta)
    for warning in report.warnings:  # also in the report (JSON "warnings", table WARNING lines)
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_report(report))
    return 0 if report.passed else 1


def format_report(report) -> str:
    lines = [f"exported {report.format} from {report.source['path']}"
             + (f" ({report.source['checkpoint']} checkpoint)" if report.source.get("checkpoint") else "")]
    lines += [f"  wrote {path}" for path in report.artefacts]
    for note in report.notes:
        lines.append(f"  note: {note}")
    for check in report.checks:
        verdict = "PASSED" if check.passed else "FAILED"
        limit = f" (limit {check.tolerance:g})" if check.tolerance is not None else " (quantised: reported only)"
        lines.append(f"  verification {verdict}: {check.artefact}")
        lines.append(f"    {check.samples} samples ({check.sample_origin}); same top class: "
                     f"{check.top_class_agreement:.0%}; max |diff| {check.max_abs_diff:.3g}{limit}")
        lines += [f"    {detail}" for detail in check.details]
    if report.deployment is not None:
        from cnnstudio.export.tflite_report import format_table

        lines += ["  " + line for line in format_table(report.deployment)]
    if report.report_file:
        lines.append(f"  report: {report.report_file}")
    lines.append("done" if report.passed else "verification FAILED: do not ship this artefact")
    return "\n".join(lines)
