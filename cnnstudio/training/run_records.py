"""Reading run directories for the panels (pure Python: no Qt, no TensorFlow).

Everything comes from what the engine writes (cnnstudio.training.rundir): run.json,
metrics.csv, batches.jsonl, events.jsonl, config.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cnnstudio.training.rundir import RunDirectory


@dataclass
class RunSummary:
    path: Path
    status: str
    started: datetime | None
    epochs: int | None
    epochs_completed: int
    best_metric: float | None
    best_epoch: int | None
    seconds: float
    settings: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    best_row: dict[str, Any] = field(default_factory=dict)  # metrics.csv row of the best epoch

    @property
    def best_metric_label(self) -> str:
        """What best_metric measures, in the run table's words."""
        return {"balanced_accuracy": "bal. acc", "macro_f1": "macro-F1"}.get(
            str(self.settings.get("best_metric", "val_accuracy")), "val acc")

    @property
    def balanced_accuracy(self) -> float | None:
        return self.best_row.get("val_balanced_accuracy")

    @property
    def macro_f1(self) -> float | None:
        return self.best_row.get("val_macro_f1")

    @property
    def name(self) -> str:
        return self.path.name

    def key_settings(self) -> str:
        s = self.settings
        if not s:
            return ""
        return (f"{s.get('optimizer', '?')}, lr {s.get('learning_rate', '?'):g}, batch {s.get('batch_size', '?')}, "
                f"{s.get('schedule', 'constant')}" if isinstance(s.get("learning_rate"), (int, float)) else
                f"{s.get('optimizer', '?')}, batch {s.get('batch_size', '?')}")


def is_run(path: Path) -> bool:
    return path.is_dir() and ((path / "job.json").exists() or (path / "run.json").exists())


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def summarize(path: Path) -> RunSummary:
    rundir = RunDirectory(path, writer=False)
    run = read_json(rundir.run_file)
    config = read_json(rundir.config_file)
    try:
        rows = rundir.read_metrics()
    except (OSError, ValueError):
        rows = []
    stamp_file = rundir.job_file if rundir.job_file.exists() else path
    started = datetime.fromtimestamp(stamp_file.stat().st_mtime)
    status = str(run.get("status") or ("new" if not rows else "unknown"))
    return RunSummary(
        path=path, status=status, started=started, epochs=run.get("epochs"),
        epochs_completed=int(run.get("epochs_completed") or len(rows)),
        best_metric=run.get("best_metric"), best_epoch=run.get("best_epoch"),
        seconds=float(sum(r.get("seconds") or 0.0 for r in rows)),
        settings=dict(config.get("training") or (config.get("project") or {}).get("training") or {}),
        error=run.get("error"),
        best_row=next((r for r in rows if r.get("epoch") == run.get("best_epoch")), {}),
    )


def list_runs(folder: Path | None) -> list[RunSummary]:
    """Every run below `folder` (one level), newest first."""
    if folder is None or not Path(folder).is_dir():
        return []
    runs = [summarize(p) for p in Path(folder).iterdir() if is_run(p)]
    return sorted(runs, key=lambda r: (r.started or datetime.min, r.name), reverse=True)


def read_batches(path: Path, limit: int = 200_000) -> list[dict[str, Any]]:
    out = []
    try:
        with (Path(path) / "batches.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue  # a line cut by a kill
    except OSError:
        return []
    return out[-limit:]


def last_event(path: Path, name: str) -> dict[str, Any] | None:
    """The last event called `name` in RUN_DIR/events.jsonl."""
    found = None
    try:
        with (Path(path) / "events.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                if f'"event":"{name}"' not in line:
                    continue
                try:
                    found = json.loads(line)
                except ValueError:
                    continue
    except OSError:
        return None
    return found


def class_names(path: Path) -> list[str]:
    config = read_json(Path(path) / "config.json")
    names = config.get("class_names")
    if isinstance(names, list):
        return [str(n) for n in names]
    started = last_event(path, "started")
    return list((started or {}).get("class_names") or [])


# ---- "what changed" between two runs ---------------------------------------------------------
def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(_flat(inner, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def _changes(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    fa, fb = _flat(a), _flat(b)
    return [(k, fa.get(k), fb.get(k)) for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)]


def _nodes(project: dict[str, Any]) -> dict[str, dict[str, Any]]:
    nodes = (project.get("architecture") or {}).get("nodes") or []
    out = {}
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, dict) and "name" in node:
            out[node["name"]] = {k: v for k, v in node.items() if k not in ("position", "name")}
    return out


def diff_runs(a: Path, b: Path) -> dict[str, list[str]]:
    """Human-readable differences of two runs' snapshots: architecture, data, settings."""
    pa = read_json(Path(a) / "config.json").get("project") or {}
    pb = read_json(Path(b) / "config.json").get("project") or {}
    out: dict[str, list[str]] = {"Architecture": [], "Data": [], "Settings": []}
    na, nb = _nodes(pa), _nodes(pb)
    for name in sorted(set(na) - set(nb)):
        out["Architecture"].append(f"removed layer '{name}' ({na[name].get('type', '?')})")
    for name in sorted(set(nb) - set(na)):
        out["Architecture"].append(f"added layer '{name}' ({nb[name].get('type', '?')})")
    for name in sorted(set(na) & set(nb)):
        for key, old, new in _changes(na[name], nb[name]):
            out["Architecture"].append(f"'{name}' {key}: {_short(old)} → {_short(new)}")
    for key, old, new in _changes(pa.get("dataset") or {}, pb.get("dataset") or {}):
        out["Data"].append(f"dataset.{key}: {_short(old)} → {_short(new)}")
    ea, eb = set(pa.get("exclusions") or []), set(pb.get("exclusions") or [])
    if ea != eb:
        out["Data"].append(f"exclusions: {len(eb - ea)} added, {len(ea - eb)} restored")
    ra, rb = pa.get("relabels") or {}, pb.get("relabels") or {}
    if ra != rb:
        changed = sum(1 for k in set(ra) | set(rb) if ra.get(k) != rb.get(k))
        out["Data"].append(f"relabels: {changed} file(s) changed")
    ca = read_json(Path(a) / "config.json")
    cb = read_json(Path(b) / "config.json")
    for key in ("train_examples", "val_examples"):
        if ca.get(key) != cb.get(key):
            out["Data"].append(f"{key.replace('_', ' ')}: {ca.get(key)} → {cb.get(key)}")
    for section in ("preprocessing", "augmentation", "training"):
        for key, old, new in _changes(pa.get(section) or {}, pb.get(section) or {}):
            out["Settings"].append(f"{section}.{key}: {_short(old)} → {_short(new)}")
    return out


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "…"
