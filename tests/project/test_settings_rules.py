"""Settings are never silently wrong: cross-field rules in the schema, `--set` errors that name
the key and what it accepts, and labels in words rather than identifiers (issue 12 §3, §4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cnnstudio.errors import ProjectFileError
from cnnstudio.graph.params import WORDS
from cnnstudio.project import schema

REPO = Path(__file__).resolve().parents[2]


def test_validation_plus_test_share_below_one():
    values = {"folder": "x", "validation_fraction": 0.6, "test_fraction": 0.6}
    with pytest.raises(ProjectFileError, match=r"p.cnnproj: dataset: Validation share \(0.6\) \+ test share \(0.6\)"):
        schema.check_section("dataset", values, "p.cnnproj")
    problems = schema.rule_problems("dataset", values)
    assert problems[0][0] == ("validation_fraction", "test_fraction")
    assert schema.rule_problems("dataset", {"validation_fraction": 0.6, "test_fraction": 0.3}) == []
    assert schema.check_section("dataset", {"validation_fraction": 0.5, "test_fraction": 0.4}, "p")["test_fraction"] == 0.4


def test_allowed_describes_ranges_in_words():
    specs = {s.name: s for s in schema.TRAINING}
    assert schema.allowed(specs["learning_rate"]) == "a number from 1e-08 to 10"
    assert schema.allowed(specs["seed"]) == "a whole number from 0 to 2147483647"
    assert schema.allowed(specs["optimizer"]).startswith("one of sgd, ")
    assert schema.allowed(next(s for s in schema.PREPROCESSING if s.name == "whitening_epsilon")).endswith(
        "(or empty for the default)")


@pytest.mark.parametrize(("setting", "expected"), [
    ("learning_rate=0.05x", "--set learning_rate=0.05x: Learning rate must be a number from 1e-08 to 10."),
    ("batch_size=-5", "--set batch_size=-5: Batch size must be a whole number from 1 to 65536."),
    ("seed=99999999999", "--set seed=99999999999: Seed must be a whole number from 0 to 2147483647."),
])
def test_cli_set_refuses_bad_values_naming_key_and_range(tmp_path, setting, expected):
    from tests.gui.panels.helpers import make_image_folder, make_project

    make_project(tmp_path, make_image_folder(tmp_path / "data", per_class=2, broken=False))
    result = subprocess.run([sys.executable, "-m", "cnnstudio", "train", str(tmp_path / "tiny.cnnproj"),
                             "--set", setting, "--run-dir", str(tmp_path / "run")], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO), "CUDA_VISIBLE_DEVICES": "-1"},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()


def all_specs():
    from cnnstudio import zoo
    from cnnstudio.graph import catalogue

    specs = [s for section in schema.SECTIONS.values() for s in section]
    specs += [s for family in zoo.families() for s in family.knobs]
    specs += [p for kind in catalogue.layer_types().values() for p in kind.params]
    return specs


def test_labels_are_words_not_identifiers():
    titles = {s.name: s.title for s in all_specs()}
    assert titles["xla"] == "XLA compilation"
    assert titles["bc"] == "Bottleneck + compression (BC)"
    assert titles["preact"] == "Pre-activation (v2)"
    for name, title in titles.items():
        assert "_" not in title, f"{name}: {title!r}"
        # An abbreviation (a short name without vowels, or listed in WORDS) never reads as "Xla"/"Bc".
        if name in WORDS or (len(name) <= 4 and not set(name) & set("aeiou")):
            assert title != name.capitalize(), f"{name} is shown as {title!r}: add it to params.WORDS"
