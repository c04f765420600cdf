"""Histograms over training as recorded per epoch in RUN_DIR/histograms.jsonl (pure Python).

One line per epoch: {"epoch", "layers": {name: {kind: {"edges", "counts", "mean", "std",
"rms"}}}} with kind in weights, activations, gradients. The GUI draws them per layer over
epochs and flags vanishing or exploding gradients with `gradient_flags`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FILE_NAME = "histograms.jsonl"
KINDS = ("weights", "activations", "gradients")
VANISHING_RMS = 1e-7  # a layer's gradient this small learns nothing at any sensible learning rate
VANISHING_RATIO = 1e-4  # ... or this much smaller than the layer with the largest gradients
EXPLODING_RMS = 1e2


def read_histograms(run_dir: str | Path) -> list[dict[str, Any]]:
    """Every recorded epoch in order (the last record of an epoch wins: a resumed run redoes epochs)."""
    path = Path(run_dir) / FILE_NAME
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    by_epoch: dict[int, dict[str, Any]] = {}
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by a kill
        if isinstance(record, dict) and isinstance(record.get("epoch"), int):
            by_epoch[record["epoch"]] = record
    return [by_epoch[e] for e in sorted(by_epoch)]


def layer_names(records: list[dict[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record.get("layers", {})))
    return list(names)


@dataclass
class GradientFlag:
    epoch: int
    layer: str
    kind: str  # "vanishing" or "exploding"
    rms: float

    def message(self) -> str:
        return f"epoch {self.epoch}: {self.layer} gradients {self.kind} (RMS {self.rms:.2g})"


def gradient_flags(records: list[dict[str, Any]]) -> list[GradientFlag]:
    """Layers whose gradient RMS is vanishingly small (absolutely or relative to the largest) or huge."""
    flags = []
    for record in records:
        rms = {name: float(kinds["gradients"]["rms"]) for name, kinds in record.get("layers", {}).items()
               if "gradients" in kinds}
        finite = [v for v in rms.values() if math.isfinite(v)]
        largest = max(finite, default=0.0)
        for name, value in rms.items():
            if not math.isfinite(value) or value > EXPLODING_RMS:
                flags.append(GradientFlag(record["epoch"], name, "exploding", value))
            elif value < VANISHING_RMS or (largest > 0 and value < VANISHING_RATIO * largest):
                flags.append(GradientFlag(record["epoch"], name, "vanishing", value))
    return flags


def heat_rows(records: list[dict[str, Any]], layer: str, kind: str, bins: int = 40
              ) -> tuple[list[list[float]], float, float]:
    """One row per epoch: the layer's histogram re-binned onto common edges (for a heat map).

    Returns (rows of bin fractions, low, high) where low..high spans every epoch's range.
    """
    entries = [r["layers"][layer][kind] for r in records if kind in r.get("layers", {}).get(layer, {})]
    if not entries:
        return [], 0.0, 1.0
    low = min(e["edges"][0] for e in entries)
    high = max(e["edges"][-1] for e in entries)
    if high - low < 1e-12:
        high = low + 1.0
    width = (high - low) / bins
    rows = []
    for entry in entries:
        row = [0.0] * bins
        total = sum(entry["counts"]) or 1
        edges = entry["edges"]
        for i, count in enumerate(entry["counts"]):
            centre = (edges[i] + edges[i + 1]) / 2
            row[min(bins - 1, max(0, int((centre - low) / width)))] += count / total
        rows.append(row)
    return rows, low, high
