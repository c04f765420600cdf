"""The Training panel follows a worker streaming events at full rate: every event is drawn,
redraws are throttled, and the end state is right.

How long the event loop stalls meanwhile is a performance figure, measured by
benchmarks/gui_event_stream.py (goal: no stall over 100 ms), not asserted here.
"""

from __future__ import annotations

import time

from tests.gui.panels.helpers import fake_worker_command


def test_fake_worker_at_full_rate_is_followed_with_throttled_redraws(studio, qtbot, tmp_path):
    panel = studio.sections["Training"]
    studio.show_section("Training")
    events = 30_000
    started = time.perf_counter()
    panel.launch(fake_worker_command(tmp_path, events), None)
    qtbot.waitUntil(lambda: not panel.client.running, timeout=120_000)
    qtbot.waitUntil(lambda: panel.plots.point_count() == events, timeout=10_000)  # the last redraw
    seconds = time.perf_counter() - started
    assert panel.finished_event is not None and panel.finished_event["status"] == "completed"
    assert panel.matrix.matrix == [[70, 20, 10], [10, 80, 10], [30, 10, 60]]
    assert panel.client.raw_lines == []
    # Redraws are throttled to about ten a second, however fast the events arrive.
    assert panel.plots.redraws <= seconds * 10 + 5
