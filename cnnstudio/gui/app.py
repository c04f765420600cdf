"""Start the app: QApplication, theme, the main window; or render it to a PNG and exit."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_API", "pyside6")


def _application():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("CNN Studio")
        app.setOrganizationName("CNN Studio")
        app.setApplicationDisplayName("CNN Studio")
        app.setDesktopFileName("cnnstudio")  # matches packaging/cnnstudio.desktop
        _set_icon(app)
    from cnnstudio.gui import theme

    if not theme.applied(app):
        # Once per application: restyling re-polishes every live widget (and a widget that is
        # being torn down can crash Qt while it is re-polished).
        theme.apply(app)
    return app


def _set_icon(app) -> None:
    from PySide6.QtGui import QIcon

    from cnnstudio import paths

    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256):
        if paths.icon(size).exists():
            icon.addFile(str(paths.icon(size)))
    app.setWindowIcon(icon)


def create_window(project_path: str | None = None):
    """The main window with PROJECT, else the bundled sample, else an empty project."""
    from cnnstudio.errors import StudioError
    from cnnstudio.gui import projects
    from cnnstudio.gui.main_window import MainWindow
    from cnnstudio.project.file import load_project

    _application()
    if project_path:
        path = Path(project_path)
        if path.suffix == ".keras":
            window = MainWindow()
            window.import_keras(path)
            return window
        try:
            project = load_project(path)
        except StudioError as exc:
            # A double-click on a damaged file must not end in silence: the window opens on an
            # empty project with the error across the top (and on stderr for a terminal).
            from cnnstudio.gui.widgets.problem_bar import show_problem

            print(f"error: {exc}", file=sys.stderr)
            window = MainWindow()
            window.launch_error = str(exc)
            show_problem(window, f"Could not open {path.name}", str(exc))
            return window
        window = MainWindow(project)
        projects.add_recent(path)
        return window
    sample = projects.sample_project_path()
    window = MainWindow(open_sample(sample) if sample else None)
    if sample is not None:
        first_steps(window)
    return window


def first_steps(window) -> None:
    """What to do next, on the sample that opens when no project is given: its note, and the
    way to the one button that shows the whole product working."""
    from cnnstudio.gui.widgets.problem_bar import show_notice

    project = window.project
    note = (project.notes or "").strip()
    show_notice(window, project.name, f"{note} Next: open Training and press ▶ Start; to use your own images, "
                "drop a folder on the window.".strip(), "Go to Training ▸",
                lambda: window.show_section("Training"))


def open_sample(path: Path):
    """The bundled sample as an untitled copy: saving asks where, and never overwrites it."""
    from cnnstudio.project.file import load_project

    project = load_project(path)
    folder = project.dataset_folder()
    if folder is not None:
        project.dataset["folder"] = str(folder.resolve())  # absolute: the copy has no folder yet
    weights = project.weights_file()
    if weights is not None:
        project.weights = str(weights.resolve())
    project.path = None
    return project


def screenshot(window, output: str | Path, section: str | None = None) -> Path:
    from PySide6.QtWidgets import QApplication

    if section:
        window.show_section(section)
    window.resize(1440, 900)
    window.show()
    window.resize(1440, 900)
    for _ in range(3):
        QApplication.processEvents()
    if window.editor is not None:
        window.editor.view.show_start()
    QApplication.processEvents()
    target = Path(output)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(target)):
        from cnnstudio.errors import StudioError

        raise StudioError(f"{target}: could not write the PNG (check the folder and the .png suffix).")
    return target


def run(project_path: str | None = None, screenshot_path: str | None = None, section: str | None = None) -> int:
    app = _application()
    window = create_window(project_path)
    if screenshot_path:
        window.ask_save = lambda: "discard"
        screenshot(window, screenshot_path, section)
        window.close()
        finish_background_work()
        return 2 if getattr(window, "launch_error", None) else 0
    window.restore_layout()
    if section:
        window.show_section(section)
    window.show()
    code = app.exec()
    finish_background_work()
    return code


def finish_background_work(timeout_ms: int = 30_000) -> None:
    """After the window closed: let thread workers queued during the close start and end while
    the objects they signal still exist, so nothing runs into a deleted signal source at exit.

    superqt queues a worker's start on a 1 ms timer, so a worker started just before the close
    reaches the pool after the panels' shutdown; a few turns of the event loop let it in.
    """
    import time

    from PySide6.QtCore import QCoreApplication, QThreadPool

    deadline = time.monotonic() + 0.05
    while time.monotonic() < deadline:
        QCoreApplication.processEvents()
        time.sleep(0.005)
    QThreadPool.globalInstance().waitForDone(timeout_ms)


def preview_panel(make, argv: list[str] | None = None) -> int:
    """`python -m cnnstudio.gui.panels.<name> [PROJECT] [--screenshot OUT.png]`: one panel alone.

    `make(model, runs)` builds the panel on PROJECT (else the bundled sample) with a project
    model and run store of its own: what the panel needs, nothing of the window.
    """
    import argparse

    from cnnstudio.errors import StudioError
    from cnnstudio.project.model import ProjectModel
    from cnnstudio.training.runstore import RunStore

    parser = argparse.ArgumentParser(description="Show one panel of CNN Studio on a project.")
    parser.add_argument("project", nargs="?", help="a project file (default: the bundled sample)")
    parser.add_argument("--screenshot", metavar="OUT.png", help="render the panel to this PNG and exit")
    args = parser.parse_args(argv)
    if args.screenshot and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        from cnnstudio.gui import projects
        from cnnstudio.project.file import load_project

        app = _application()
        if args.project:
            project = load_project(args.project)
        else:
            sample = projects.sample_project_path()
            project = open_sample(sample) if sample else projects.empty_project()
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    model = ProjectModel(project)
    runs = RunStore(project.path)
    panel = make(model, runs)
    panel.setWindowTitle(f"{type(panel).__name__} — {project.path or project.name}")
    panel.resize(1280, 800)
    panel.show()
    if args.screenshot:
        for _ in range(3):
            app.processEvents()
        wait = getattr(panel, "wait_ready", None)
        if wait is not None:
            wait(90)
        target = Path(args.screenshot)
        target.parent.mkdir(parents=True, exist_ok=True)
        saved = panel.grab().save(str(target))
        getattr(panel, "shutdown", lambda: None)()
        panel.close()
        if not saved:
            print(f"error: {target}: could not write the PNG (check the folder and the .png suffix).", file=sys.stderr)
            return 2
        return 0
    code = app.exec()
    getattr(panel, "shutdown", lambda: None)()
    return code
