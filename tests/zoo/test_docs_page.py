"""docs/zoo.md is generated from the builders and must be current; depth is the paper's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cnnstudio.zoo import docs

PAGE = Path(__file__).resolve().parents[2] / "docs" / "zoo.md"


def test_page_is_current():
    assert PAGE.read_text(encoding="utf-8") == docs.render() + "\n", (
        "docs/zoo.md is stale: run python -m cnnstudio.zoo.docs > docs/zoo.md")


@pytest.mark.parametrize("preset", [p for p in docs.PRESETS if re.search(r"-\d+", p.label)
                                    and p.family not in ("wrn", "lenet5", "nin")],
                         ids=lambda p: p.label)
def test_depth_matches_the_name(preset):
    """ResNet-110 has 110 weight layers on its longest path, DenseNet-121 121, DPN-92 92..."""
    graph, analysis = docs.build(preset)
    named = int(re.search(r"-(\d+)", preset.label).group(1))
    assert docs.weighted_depth(graph, analysis) == named


def test_every_family_has_presets():
    from cnnstudio import zoo

    assert {p.family for p in docs.PRESETS} == set(zoo.names())
