"""The `cnnstudio` command: the GUI by default, and headless subcommands.

Each subcommand lives in cnnstudio/commands/<name>.py with `register(subparsers)` that adds
its parser and sets `func`. Modules import TensorFlow only inside `func`, so `--help`
and pure commands stay instant.
"""

from __future__ import annotations

import argparse
import importlib
import os
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
    "recipes",
    "resume",
    "lr_find",
    "export",
    "predict",
    "finetune",
    "inspect",
    "saliency",
    "embed",
    "sweep",
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


# Commands that load TensorFlow in this process: its C++ start-up lines (absl, oneDNN, CUDA
# probing) would bury the command's own output, so they go to a log file instead.
TENSORFLOW_COMMANDS = {"import-keras", "export", "predict", "finetune", "inspect", "saliency", "embed"}


def _quiet_native_stderr() -> None:
    """Send file descriptor 2 (C++ logs, child processes) to a log; keep Python's stderr.

    Python's own messages (errors, warnings, progress bars) still reach the terminal through
    sys.stderr. Skipped when stderr is already redirected in-process (tests) or when
    CNNSTUDIO_VERBOSE is set.
    """
    if os.environ.get("CNNSTUDIO_VERBOSE") or sys.stderr is not sys.__stderr__:
        return
    from cnnstudio.paths import cache_dir

    try:
        folder = cache_dir() / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        log = os.open(folder / "native-stderr.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        sys.stderr.flush()
        terminal = os.dup(2)
    except OSError:
        return  # a read-only home: keep the noise rather than fail
    os.dup2(log, 2)
    os.close(log)
    sys.stderr = os.fdopen(terminal, "w", buffering=1, encoding=sys.__stderr__.encoding, errors="backslashreplace")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        if "gui" in parser._subparsers._group_actions[0].choices:  # type: ignore[union-attr]
            args = parser.parse_args(["gui", *(argv or sys.argv[1:])])
        else:
            parser.print_help()
            return 0
    if args.command in TENSORFLOW_COMMANDS:
        _quiet_native_stderr()
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
