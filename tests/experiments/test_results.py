"""Rows, best trial, Pareto set and macro-F1 from study trials. Pure."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from cnnstudio.experiments.results import best_row, macro_f1, pareto_front, trial_rows


def frozen(number, state, values=None, **attrs):
    return SimpleNamespace(number=number, state=SimpleNamespace(name=state), values=values, user_attrs=attrs,
                           intermediate_values={1: 0.5, 2: 0.6} if state != "WAITING" else {})


def test_rows_best_first_and_pareto_marked():
    trials = [frozen(0, "COMPLETE", [0.9, 3000.0], macs=3000), frozen(1, "COMPLETE", [0.8, 1000.0], macs=1000),
              frozen(2, "COMPLETE", [0.7, 2000.0], macs=2000), frozen(3, "PRUNED", value=0.4),
              frozen(4, "FAIL", failure="out_of_memory", message="Out of memory."), frozen(5, "RUNNING")]
    rows = trial_rows(trials, ["maximize", "minimize"])
    assert [r.number for r in rows] == [0, 1, 2, 3, 5, 4]
    assert {r.number for r in rows if r.pareto} == {0, 1}  # trial 2 is beaten on both by trial 1
    assert best_row(rows, "maximize").number == 0
    assert rows[-1].failure == "out_of_memory" and rows[0].curve == [0.5, 0.6]
    assert best_row(trial_rows(trials[3:], ["maximize"]), "maximize") is None


def test_minimised_objective_picks_the_lowest():
    rows = trial_rows([frozen(0, "COMPLETE", [0.3]), frozen(1, "COMPLETE", [0.2])], ["minimize"])
    assert best_row(rows, "minimize").number == 1 and rows[0].number == 1


def test_pareto_front_and_macro_f1():
    assert pareto_front([(0.9, 30), (0.8, 10), (0.7, 20), (0.95, 40)], ["maximize", "minimize"]) == [1, 0, 3]
    # Two classes: class 0 F1 = 2*3/(2*3+1+0) = 6/7, class 1 F1 = 2*1/(2*1+0+1) = 2/3.
    assert macro_f1([[3, 0], [1, 1]]) == pytest.approx((6 / 7 + 2 / 3) / 2)
    assert macro_f1([]) is None
