"""Generated reference pages must match their sources (run `python docs/make_docs.py`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _generator():
    spec = importlib.util.spec_from_file_location("make_docs", DOCS / "make_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("page", ["cli.md", "layers.md", "project-format.md", "events.md"])
def test_generated_page_is_current(page):
    module = _generator()
    expected = module.PAGES[page]() + "\n"
    assert (DOCS / page).read_text(encoding="utf-8") == expected, f"docs/{page} is stale: run python docs/make_docs.py"
