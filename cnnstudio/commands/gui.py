"""`cnnstudio gui [PROJECT] [--screenshot OUT.png] [--section NAME]`: open the app."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gui",
        help="open the app (the default command)",
        description="Open CNN Studio. With --screenshot, render the window to a PNG and exit "
        "(works without a display on the offscreen platform).",
    )
    parser.add_argument("project", nargs="?", metavar="PROJECT",
                        help="a project file (.cnnproj/.json) or a .keras model to import")
    parser.add_argument("--screenshot", metavar="OUT.png", help="render the window to this PNG and exit")
    parser.add_argument("--section", metavar="NAME",
                        help="section to show: Architecture, Data, Training, Runs or Export")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    if args.screenshot and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display needed for a render
    from cnnstudio.gui.app import run as run_app

    return run_app(args.project, args.screenshot, args.section)
