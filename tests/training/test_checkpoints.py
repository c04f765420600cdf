"""Atomic checkpoint slots with the previous file kept."""

from __future__ import annotations

import numpy as np

from cnnstudio.training.checkpoints import (
    Checkpoint,
    cleanup_temporaries,
    load_checkpoint,
    save_checkpoint,
    slot_path,
)


def make(value: float, epoch: int) -> Checkpoint:
    return Checkpoint([np.full((2, 3), value, np.float32), np.arange(4)], [np.array(epoch)], {"epoch": epoch})


def test_round_trip_keeps_previous(tmp_path):
    save_checkpoint(tmp_path, "last", make(1.0, 1))
    save_checkpoint(tmp_path, "last", make(2.0, 2))
    loaded = load_checkpoint(tmp_path)
    assert loaded.state == {"epoch": 2}
    np.testing.assert_array_equal(loaded.model[0], np.full((2, 3), 2.0))
    np.testing.assert_array_equal(loaded.model[1], np.arange(4))
    assert load_checkpoint(tmp_path) is not None
    previous = np.load(slot_path(tmp_path, "last", previous=True))
    assert previous["model_00000"][0, 0] == 1.0


def test_falls_back_to_previous_when_last_is_missing_or_damaged(tmp_path):
    save_checkpoint(tmp_path, "last", make(1.0, 1))
    save_checkpoint(tmp_path, "last", make(2.0, 2))
    slot_path(tmp_path, "last").write_bytes(b"not a zip")
    assert load_checkpoint(tmp_path).state == {"epoch": 1}
    slot_path(tmp_path, "last").unlink()
    assert load_checkpoint(tmp_path).state == {"epoch": 1}
    assert load_checkpoint(tmp_path, "best") is None


def test_temporaries_are_ignored_and_cleaned(tmp_path):
    (tmp_path / ".last.x1.tmp").write_bytes(b"torn")
    assert load_checkpoint(tmp_path) is None
    cleanup_temporaries(tmp_path)
    assert not list(tmp_path.iterdir())
