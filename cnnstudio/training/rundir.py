"""The run directory: what a run leaves on disk, and how it is read back.

Layout (RUN_DIR/):
  job.json          the job that started the run (resume reads it)
  config.json       snapshot: project, dataset split, seed, settings used, package versions
  run.json          status, epochs, epochs_completed, best_metric, best_epoch (rewritten atomically)
  metrics.csv       one row per epoch: epoch, loss, accuracy, val_loss, val_accuracy, lr, seconds,
                    val_balanced_accuracy, val_macro_f1
  batches.jsonl     one line per throttled batch event
  events.jsonl      every event the worker emitted (clients re-attach from it)
  tensorboard/      TensorBoard event files (train/, validation/)
  checkpoints/      last.npz, last.prev.npz (the one before), best.npz
  model.keras       the final model, when the run completed
  STOP              created by a client to ask for a graceful stop

metrics.csv is rewritten from the checkpoint's own copy of the rows on every resume, so an
epoch is recorded once even if the worker was killed between a checkpoint and the CSV.
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from cnnstudio.errors import TrainingError
from cnnstudio.fileio import write_json_atomic, write_text_atomic

METRIC_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds", "val_balanced_accuracy",
                  "val_macro_f1")


class RunDirectory:
    def __init__(self, path: str | os.PathLike, writer: bool = True):
        self.path = Path(path)
        self.writer = writer  # False on non-chief workers: they write nothing here

    # ---- paths --------------------------------------------------------------------------
    @property
    def job_file(self) -> Path:
        return self.path / "job.json"

    @property
    def config_file(self) -> Path:
        return self.path / "config.json"

    @property
    def run_file(self) -> Path:
        return self.path / "run.json"

    @property
    def metrics_file(self) -> Path:
        return self.path / "metrics.csv"

    @property
    def batches_file(self) -> Path:
        return self.path / "batches.jsonl"

    @property
    def events_file(self) -> Path:
        return self.path / "events.jsonl"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def tensorboard(self) -> Path:
        return self.path / "tensorboard"

    @property
    def model_file(self) -> Path:
        return self.path / "model.keras"

    @property
    def stop_file(self) -> Path:
        return self.path / "STOP"

    def create(self) -> None:
        if self.writer:
            self.path.mkdir(parents=True, exist_ok=True)
            self.checkpoints.mkdir(exist_ok=True)

    # ---- records ------------------------------------------------------------------------
    def write_config(self, snapshot: dict[str, Any]) -> None:
        if self.writer:
            write_json_atomic(self.config_file, {**snapshot, "versions": package_versions()})

    def read_run(self) -> dict[str, Any]:
        try:
            return json.loads(self.run_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, json.JSONDecodeError) as exc:
            raise TrainingError(f"{self.run_file}: unreadable ({exc}).") from None

    def write_run(self, **fields: Any) -> None:
        if self.writer:
            write_json_atomic(self.run_file, {**self.read_run(), **fields})

    def write_metrics(self, rows: list[dict[str, Any]]) -> None:
        """Replace metrics.csv with exactly these rows (atomic)."""
        if not self.writer:
            return
        buffer = io.StringIO()
        out = csv.DictWriter(buffer, fieldnames=METRIC_COLUMNS, extrasaction="ignore", lineterminator="\n")
        out.writeheader()
        for row in rows:
            out.writerow({k: "" if row.get(k) is None else row[k] for k in METRIC_COLUMNS})
        write_text_atomic(self.metrics_file, buffer.getvalue())

    def read_metrics(self) -> list[dict[str, Any]]:
        if not self.metrics_file.exists():
            return []
        with self.metrics_file.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        return [{k: (None if v == "" else (int(v) if k == "epoch" else float(v))) for k, v in r.items()}
                for r in rows]

    def append_batch(self, record: dict[str, Any]) -> None:
        if self.writer:
            with self.batches_file.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, separators=(",", ":")) + "\n")

    def truncate_batches(self, global_step: int) -> None:
        """Drop batch records past the checkpoint being resumed (they will be redone)."""
        if not self.writer or not self.batches_file.exists():
            return
        kept = []
        for line in self.batches_file.read_text(encoding="utf-8").splitlines():
            try:
                if json.loads(line).get("global_step", 0) <= global_step:
                    kept.append(line)
            except json.JSONDecodeError:
                continue  # a line cut by a kill
        write_text_atomic(self.batches_file, "".join(line + "\n" for line in kept))

    def events_log(self):
        """The append-only event log, or None on non-chief workers."""
        if not self.writer:
            return None
        self.path.mkdir(parents=True, exist_ok=True)
        return self.events_file.open("a", encoding="utf-8")

    def stop_requested(self) -> bool:
        return self.stop_file.exists()

    def clear_stop(self) -> None:
        if self.writer:
            try:
                self.stop_file.unlink()
            except FileNotFoundError:
                pass


def package_versions() -> dict[str, str]:
    from importlib import metadata

    versions = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in ("cnnstudio", "tensorflow", "keras", "numpy", "pillow"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions
