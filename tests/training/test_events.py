"""The event protocol is pure, versioned and strict."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from cnnstudio.training import events as ev


def test_events_module_imports_no_tensorflow_or_qt():
    code = ("import sys, cnnstudio.training.events, cnnstudio.training.job, cnnstudio.training.schedules, "
            "cnnstudio.training.process;"
            "print([m for m in ('tensorflow', 'keras', 'PySide6') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_round_trip_and_cleaning():
    event = ev.make_event("batch", epoch=1, step=2, steps=3, global_step=2, loss=float("nan"),
                          accuracy=0.5, lr=1e-3, images_per_second=float("inf"))
    line = ev.encode(event)
    assert "\n" not in line
    parsed = ev.parse_event(line + "\n")
    assert parsed["v"] == ev.PROTOCOL_VERSION and parsed["event"] == "batch"
    assert parsed["loss"] is None and parsed["images_per_second"] is None  # JSON has no NaN


def test_every_event_declares_its_fields():
    for name in ev.EVENTS:
        values = {f: 0 for f in ev.fields_of(name)}
        if name == "error":
            values["category"] = "other"
        if name == "finished":
            values["status"] = "completed"
        assert ev.parse_event(ev.encode(ev.make_event(name, **values)))["event"] == name


@pytest.mark.parametrize("line, message", [
    ("", "empty"),
    ("I0000 tensorflow noise", "not JSON"),
    ('{"event": "batch"}', "needs 'v'"),
    ('{"v": 999, "event": "batch"}', "protocol version"),
    ('{"v": 1, "event": "nope"}', "unknown event"),
    ('{"v": 1, "event": "epoch", "epoch": 1}', "lacks field"),
])
def test_parse_rejects(line, message):
    with pytest.raises(ev.ProtocolError, match=message):
        ev.parse_event(line)


def test_make_event_checks_categories_and_fields():
    with pytest.raises(ev.ProtocolError, match="category"):
        ev.make_event("error", category="gpu_on_fire", message="m", detail="d")
    with pytest.raises(ev.ProtocolError, match="lacks"):
        ev.make_event("checkpoint", kind="last")
    with pytest.raises(ev.ProtocolError, match="status"):
        ev.make_event("finished", status="done", epochs_completed=0, best_metric=None, best_epoch=None,
                      model_path=None, seconds=0)


def test_writer_flushes_lines_to_stream_and_log():
    stream, log = io.StringIO(), io.StringIO()
    writer = ev.EventWriter(stream, log)
    writer.emit("warning", code="x", message="hello")
    assert stream.getvalue() == log.getvalue()
    assert json.loads(stream.getvalue())["message"] == "hello"


def test_throttle():
    now = [0.0]
    throttle = ev.Throttle(0.25, clock=lambda: now[0])
    assert throttle.ready()
    now[0] = 0.1
    assert not throttle.ready()
    now[0] = 0.26
    assert throttle.ready()
