"""`cnnstudio gui [PROJECT] [--screenshot OUT.png] [--section NAME]`: open the app."""

from __future__ import annotations

import argparse

SCREENSHOT_WAIT_S = 90  # a section's background work (scan, previews) before the render


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
                        help="section to show: architecture, data, training, runs or export")
    parser.set_defaults(func=run)


def section_name(name: str | None) -> str | None:
    """The section as the window names it (case-insensitive); a clear error for an unknown one."""
    if not name:
        return None
    from cnnstudio.errors import StudioError
    from cnnstudio.gui.sections import SECTIONS

    for known in SECTIONS:
        if known.lower() == name.strip().lower():
            return known
    raise StudioError(f"--section {name}: unknown section; choose one of "
                      f"{', '.join(s.lower() for s in SECTIONS)}.")


def run(args: argparse.Namespace) -> int:
    import os

    if args.screenshot and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display needed for a render
    section = section_name(args.section)
    if not args.screenshot:
        from cnnstudio.gui.app import run as run_app

        return run_app(args.project, None, section)
    return _screenshot(args.project, args.screenshot, section)


def _screenshot(project: str | None, output: str, section: str | None) -> int:
    from cnnstudio.gui.app import _application, create_window, finish_background_work, screenshot

    _application()
    window = create_window(project)
    window.ask_save = lambda: "discard"
    if section:
        window.show_section(section)
    window.resize(1440, 900)
    window.show()
    page = window.sections.get(section) if section else None
    wait = getattr(page, "wait_ready", None)
    if wait is not None:  # let the panel finish its scan/previews so the picture shows content
        wait(SCREENSHOT_WAIT_S)
    screenshot(window, output, section)
    window.close()
    finish_background_work()
    return 2 if getattr(window, "launch_error", None) else 0  # the PNG shows the error; scripts see it too
