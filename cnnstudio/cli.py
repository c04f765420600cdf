"""The `cnnstudio` command: the GUI by default, and headless subcommands.

Each subcommand lives in cnnstudio/commands/<name>.py with `register(subparsers)` that adds
its parser and sets `func`. Modules import TensorFlow only inside `func`, so `--help`
and pure commands stay instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from cnnstudio import __version__
from cnnstudio.errors import StudioError

# Order is the order shown by --help.
COMMANDS = (
    "gui",
    "analyze",
    "zoo",
    "import_keras",
    "scan",
    "train",
    "resume",
    "lr_find",
    "export",
    "predict",
    "finetune",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnnstudio",
        description="CNN Studio: design, train, fine-tune and export convolutional networks. "
        "With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"cnnstudio {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"cnnstudio.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"cnnstudio.commands.{name}":
                continue  # not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        if "gui" in parser._subparsers._group_actions[0].choices:  # type: ignore[union-attr]
            args = parser.parse_args(["gui", *(argv or sys.argv[1:])])
        else:
            parser.print_help()
            return 0
    try:
        return int(args.func(args) or 0)
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
