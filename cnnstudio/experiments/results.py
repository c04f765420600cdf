"""A sweep's results as plain rows: one per trial, best first, the Pareto set marked. Pure.

Rows are built from the study's trials (Optuna FrozenTrial objects, read duck-typed) and
are what `cnnstudio sweep show` prints and the Experiments section draws.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from cnnstudio.graph.analysis import human_count

STATUS_NAMES = {"COMPLETE": "completed", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running",
                "WAITING": "waiting"}


@dataclass
class TrialRow:
    number: int
    status: str  # completed, pruned, failed, running, waiting
    settings: dict[str, Any]
    value: float | None  # the objective: best validation metric over the trial's epochs
    second_value: float | None = None
    best_epoch: int | None = None
    epochs_completed: int = 0
    params: int | None = None
    macs: int | None = None
    seconds: float | None = None
    run_dir: str | None = None
    failure: str | None = None  # error category of a failed trial
    message: str | None = None
    pareto: bool = False
    curve: list[float | None] = field(default_factory=list)  # the objective per epoch

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("curve")
        return out


def trial_rows(trials: list[Any], directions: list[str]) -> list[TrialRow]:
    rows = []
    for trial in trials:
        state = getattr(trial.state, "name", str(trial.state))
        attrs = trial.user_attrs
        if attrs.get("duplicate"):
            continue  # a queued point enqueued twice by racing schedulers, never run
        values = trial.values if state == "COMPLETE" and trial.values else None
        value = values[0] if values else attrs.get("value")
        steps = sorted(trial.intermediate_values)
        rows.append(TrialRow(
            number=trial.number, status=STATUS_NAMES.get(state, state.lower()),
            settings=dict(attrs.get("settings") or {}), value=_finite(value),
            second_value=_finite(values[1]) if values and len(values) > 1 else _finite(attrs.get("second_value")),
            best_epoch=attrs.get("best_epoch"), epochs_completed=int(attrs.get("epochs_completed") or len(steps)),
            params=attrs.get("params"), macs=attrs.get("macs"), seconds=attrs.get("seconds"),
            run_dir=attrs.get("run_dir"), failure=attrs.get("failure"), message=attrs.get("message"),
            curve=[_finite(trial.intermediate_values[s]) for s in steps] or
            [_finite(v) for v in attrs.get("curve") or []],
        ))
    mark_pareto(rows, directions)
    return sort_rows(rows, directions[0])


def _finite(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def sort_rows(rows: list[TrialRow], direction: str) -> list[TrialRow]:
    """Completed trials best first, then pruned by value, then the rest by number."""
    order = {"completed": 0, "pruned": 1, "running": 2, "waiting": 3, "failed": 4}
    sign = -1.0 if direction == "maximize" else 1.0

    def key(row: TrialRow):
        value = sign * row.value if row.value is not None else math.inf
        return (order.get(row.status, 5), value, row.number)

    return sorted(rows, key=key)


def best_row(rows: list[TrialRow], direction: str) -> TrialRow | None:
    done = [r for r in rows if r.status == "completed" and r.value is not None]
    if not done:
        return None
    pick = max if direction == "maximize" else min
    return pick(done, key=lambda r: (r.value, -r.number))


def mark_pareto(rows: list[TrialRow], directions: list[str]) -> None:
    """Mark the completed trials no other completed trial beats on both objectives."""
    if len(directions) < 2:
        return
    done = [r for r in rows if r.status == "completed" and r.value is not None and r.second_value is not None]
    signs = [1.0 if d == "maximize" else -1.0 for d in directions]

    def score(row: TrialRow) -> tuple[float, float]:
        return signs[0] * row.value, signs[1] * row.second_value  # type: ignore[operator]

    for row in done:
        mine = score(row)
        row.pareto = not any(
            other is not row and all(o >= m for o, m in zip(score(other), mine, strict=True))
            and score(other) != mine for other in done
        )


def pareto_front(points: list[tuple[float, float]], directions: list[str]) -> list[int]:
    """Indices of the non-dominated (x=objective, y=second) points, sorted by x."""
    signs = [1.0 if d == "maximize" else -1.0 for d in directions]
    scored = [(signs[0] * x, signs[1] * y) for x, y in points]
    keep = [i for i, a in enumerate(scored)
            if not any(b != a and b[0] >= a[0] and b[1] >= a[1] for b in scored)]
    return sorted(keep, key=lambda i: points[i][0])


def macro_f1(confusion: list[list[int]]) -> float | None:
    """Mean over classes of F1 = 2·TP / (2·TP + FP + FN), from a confusion matrix (rows = true)."""
    if not confusion:
        return None
    size = len(confusion)
    scores = []
    for k in range(size):
        true_positive = confusion[k][k]
        false_negative = sum(confusion[k]) - true_positive
        false_positive = sum(confusion[r][k] for r in range(size)) - true_positive
        denominator = 2 * true_positive + false_positive + false_negative
        if denominator:
            scores.append(2 * true_positive / denominator)
    return sum(scores) / len(scores) if scores else None


def format_table(rows: list[TrialRow], objective: str, second: str | None) -> str:
    """The terminal table of `cnnstudio sweep show`."""
    from cnnstudio.experiments.trial_project import settings_label

    header = f"{'#':>4}  {'status':<9}  {objective:>12}  {'epoch':>5}  {'params':>9}  {'MACs':>9}  {'time':>7}"
    if second:
        header += f"  {second:>12}"
    lines = [header + "  settings"]
    for row in rows:
        value = "" if row.value is None else f"{row.value:.4f}"
        line = (f"{row.number:>4}  {row.status:<9}  {value:>12}  {row.best_epoch or '':>5}  "
                f"{count_text(row.params):>9}  {count_text(row.macs):>9}  {_seconds(row.seconds):>7}")
        if second:
            line += f"  {'' if row.second_value is None else f'{row.second_value:.4g}':>12}"
        label = settings_label(row.settings)
        if row.failure:
            label += f"  [{row.failure}: {row.message or ''}]"[:160]
        lines.append(line + ("  *" if row.pareto else "  ") + label)
    return "\n".join(lines)


def count_text(value: int | None) -> str:
    """Parameters or MACs as the status bar writes them (blank when unknown)."""
    return "" if value is None else human_count(value)


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.0f}s" if value < 120 else f"{value / 60:.1f}m"
