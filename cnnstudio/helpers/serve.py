"""The line protocol every long-lived TensorFlow helper process speaks (no Qt here).

One JSON request per line on stdin; JSON lines on stdout: any number of interim messages the
handler writes (progress), then its answer. Stray prints and TensorFlow's logs are sent to
stderr so that stdout carries only answers. Used by cnnstudio.helpers.panel_helper and
cnnstudio.inspect.service; docs/helper-protocol.md describes it for other clients.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

Message = dict[str, Any]
Handler = Callable[[Message, Callable[[Message], None]], Message]


def serve(handle: Handler) -> int:
    """Answer requests from stdin until it closes: `handle(request, write)` returns the answer
    and may call `write` for interim messages first."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # stray prints and TensorFlow's logs go to stderr, answers keep stdout

    def write(message: Message) -> None:
        answers.write(json.dumps(message) + "\n")

    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except json.JSONDecodeError:
            continue
        write(handle(request, write))
    return 0
