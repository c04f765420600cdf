"""Learning-rate schedules, plateau and the range test's suggestion."""

from __future__ import annotations

import math

import pytest

from cnnstudio.training.schedules import Plateau, Schedule, lr_range, suggest_lr


def schedule(name, **kw):
    return Schedule(name=name, base_lr=0.1, steps_per_epoch=10, total_epochs=10, **kw)


def test_constant_and_step():
    assert schedule("constant")(95) == 0.1
    step = schedule("step", step_epochs=3, gamma=0.1)
    assert step(29) == pytest.approx(0.1)
    assert step(30) == pytest.approx(0.01)
    assert step(60) == pytest.approx(0.001)


def test_exponential():
    assert schedule("exponential", gamma=0.5)(25) == pytest.approx(0.025)


def test_cosine_with_warmup():
    cosine = schedule("cosine", warmup_epochs=2)
    assert cosine(0) == pytest.approx(0.1 / 20)
    assert cosine(19) == pytest.approx(0.1)
    assert cosine(20) == pytest.approx(0.1)
    assert cosine(60) == pytest.approx(0.05)
    assert cosine(100) == pytest.approx(0.0, abs=1e-12)


def test_plateau_divides_after_patience_and_round_trips():
    plateau = Plateau(patience=2)
    assert not plateau.update(0.5)
    assert not plateau.update(0.5)
    assert plateau.update(0.4)
    assert plateau.multiplier == pytest.approx(0.1)
    assert not plateau.update(0.6)
    assert Plateau.from_dict(plateau.to_dict()) == plateau


def test_lr_range_and_suggestion():
    rates = lr_range(1e-6, 1.0, 61)
    assert rates[0] == pytest.approx(1e-6) and rates[-1] == pytest.approx(1.0)
    # Loss flat, then falling fastest around 1e-3, then exploding.
    losses = [2.3 - 2.0 / (1 + math.exp(-4 * (math.log10(r) + 3))) for r in rates]
    losses = [v if r < 0.1 else v * 100 for v, r in zip(losses, rates, strict=True)]
    suggested = suggest_lr(rates, losses)
    assert 1e-4 < suggested < 1e-2
    assert suggest_lr(rates[:3], losses[:3]) is None
