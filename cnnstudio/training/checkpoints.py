"""Checkpoints that survive a kill at any moment: one .npz file per slot, written atomically.

A checkpoint holds every model variable (weights and random-generator states), every
optimizer variable (step counter, rate, moments), the weight average when EMA is on, and a JSON `state` (epoch, step within the
epoch, best metric, plateau state, metric rows, running sums). Writing: temporary file,
fsync, the current file renamed to `<slot>.prev.npz`, the new one renamed into place, the
folder fsynced. A kill between the two renames leaves only `.prev`, which loading falls
back to; a torn temporary file is never read.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.errors import TrainingError
from cnnstudio.fileio import write_bytes_atomic

SLOTS = ("last", "best")


@dataclass
class Checkpoint:
    model: list[np.ndarray]
    optimizer: list[np.ndarray]
    state: dict[str, Any]
    path: Path | None = None
    ema: list[np.ndarray] = field(default_factory=list)  # averaged model variables (EMA on), else empty

    def inference_weights(self) -> list[np.ndarray]:
        """What to evaluate and export: the weight average when the run kept one, else the weights."""
        return self.ema or self.model


def slot_path(folder: Path, slot: str, previous: bool = False) -> Path:
    return folder / (f"{slot}.prev.npz" if previous else f"{slot}.npz")


def encode_checkpoint(checkpoint: Checkpoint) -> bytes:
    arrays: dict[str, np.ndarray] = {}
    for i, value in enumerate(checkpoint.model):
        arrays[f"model_{i:05d}"] = np.asarray(value)
    for i, value in enumerate(checkpoint.optimizer):
        arrays[f"optimizer_{i:05d}"] = np.asarray(value)
    for i, value in enumerate(checkpoint.ema):
        arrays[f"ema_{i:05d}"] = np.asarray(value)
    arrays["state"] = np.frombuffer(json.dumps(checkpoint.state).encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def decode_checkpoint(data: bytes | Path) -> Checkpoint:
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    with np.load(source, allow_pickle=False) as archive:
        names = sorted(archive.files)
        model = [archive[n] for n in names if n.startswith("model_")]
        optimizer = [archive[n] for n in names if n.startswith("optimizer_")]
        ema = [archive[n] for n in names if n.startswith("ema_")]
        state = json.loads(archive["state"].tobytes().decode("utf-8"))
    return Checkpoint(model, optimizer, state, data if isinstance(data, Path) else None, ema)


def save_checkpoint(folder: str | os.PathLike, slot: str, checkpoint: Checkpoint) -> Path:
    """Write `slot` atomically, keeping the previous file as `<slot>.prev.npz`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = slot_path(folder, slot)
    write_bytes_atomic(target, encode_checkpoint(checkpoint), keep_previous=slot_path(folder, slot, previous=True))
    return target


def load_checkpoint(folder: str | os.PathLike, slot: str = "last") -> Checkpoint | None:
    """The newest readable checkpoint of `slot` (falling back to the previous one), or None."""
    folder = Path(folder)
    for candidate in (slot_path(folder, slot), slot_path(folder, slot, previous=True)):
        if not candidate.exists():
            continue
        try:
            checkpoint = decode_checkpoint(candidate)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError):
            continue  # damaged outside our control; try the previous one
        checkpoint.path = candidate
        return checkpoint
    return None


def cleanup_temporaries(folder: str | os.PathLike) -> None:
    """Remove temporary files left by a kill during a write."""
    folder = Path(folder)
    if folder.is_dir():
        for leftover in folder.glob(".*.tmp"):
            try:
                leftover.unlink()
            except OSError:
                pass


def check_compatible(checkpoint: Checkpoint, model_count: int, optimizer_count: int, where: Path) -> None:
    if len(checkpoint.model) != model_count or (checkpoint.optimizer and len(checkpoint.optimizer) != optimizer_count):
        raise TrainingError(
            f"{where}: the checkpoint holds {len(checkpoint.model)} model and {len(checkpoint.optimizer)} "
            f"optimizer variables but the model has {model_count} and {optimizer_count}. The project's "
            "architecture or optimizer changed since the run started; start a new run instead."
        )

