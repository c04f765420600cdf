"""The layering rules (docs/architecture.md) hold: import-linter contracts in pyproject.toml.

`lint-imports` reads every module of the package (including imports inside functions and
packages added later, through the contracts' wildcards); a contract whose source module no
longer exists is an error, so no rule can silently stop checking anything.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "keras", "PySide6", "pyqtgraph", "superqt", "qtpy")


def _lint_imports() -> subprocess.CompletedProcess:
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run(
        [sys.executable, "-c", code, "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_import_contracts_are_kept():
    result = _lint_imports()
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    names = [contract["name"] for contract in contracts["contracts"]]
    for name in names:
        assert name in " ".join(result.stdout.split()), f"contract {name!r} was not checked"
    assert f"{len(names)} kept, 0 broken" in result.stdout


def test_contracts_cover_the_rules_of_the_architecture_page():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    rules = [(set(c["source_modules"]), set(c["forbidden_modules"])) for c in contracts["contracts"]]
    pure = {"cnnstudio.graph", "cnnstudio.zoo", "cnnstudio.project", "cnnstudio.training.events"}
    assert any(sources == pure and {"tensorflow", "keras", "PySide6"} <= banned for sources, banned in rules)
    every_package = {"cnnstudio.*"}
    assert any(sources == every_package and "PySide6" in banned for sources, banned in rules)
    assert any(sources == every_package and banned == {"cnnstudio.gui"} for sources, banned in rules)
    assert ({"cnnstudio.graph"}, {"cnnstudio.modeling"}) in rules


def test_pure_core_and_cli_parser_load_without_qt_or_tensorflow():
    """At run time too: the catalogue's entries and the CLI parser pull in nothing heavy."""
    code = (
        "import sys\n"
        "import cnnstudio.graph, cnnstudio.project, cnnstudio.zoo, cnnstudio.training.events\n"
        "from cnnstudio.graph import catalogue; catalogue.layer_types()\n"
        "from cnnstudio import zoo; [zoo.create(name) for name in zoo.names()]\n"
        "from cnnstudio.cli import build_parser; build_parser()\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_architecture_docs_name_files_that_exist():
    """docs/architecture.md and the how-to pages point at real files (they are a newcomer's map)."""
    import re

    pages = ["architecture.md", "how-to-add-a-layer-type.md", "how-to-add-a-setting.md", "helper-protocol.md"]
    missing = []
    for page in pages:
        text = (ROOT / "docs" / page).read_text(encoding="utf-8")
        for link in re.findall(r"\]\(([^)#]+)\)", text):
            if not (ROOT / "docs" / link).exists():
                missing.append(f"{page}: link {link}")
        for token in re.findall(r"`([\w./-]+\.(?:py|md)|[\w-]+/[\w./-]*)`", text):
            if token.startswith("RUN_DIR/"):
                continue  # a placeholder, not a file of the repository
            bases = (ROOT, ROOT / "cnnstudio", ROOT / "docs")
            found = any((base / token).exists() for base in bases) or (
                "/" not in token and any((ROOT / "cnnstudio").rglob(token))  # a module named in its package's row
            )
            if not found:
                missing.append(f"{page}: {token}")
    assert missing == []
