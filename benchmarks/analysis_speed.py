"""Analysis time of a 700+ node graph (goal < 50 ms) vs Keras building the same model.

The reference is what a user of a Keras-only tool waits for to learn shapes and parameter
counts: building the functional model. Prints the ratio (Keras time / ours) last.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnstudio.graph import Graph, analyze  # noqa: E402

GOAL_MS = 50.0


def dense_graph(layers: int = 175) -> Graph:
    try:
        from cnnstudio import zoo

        return zoo.create("densenet", depth=201)
    except Exception:
        g = Graph()
        x = g.add_layer("Input", name="input", height=56, width=56, channels=64)
        features = x
        for i in range(layers):
            y = g.add_layer("BatchNorm", [features], name=f"bn{i}")
            y = g.add_layer("Activation", [y], name=f"relu{i}")
            y = g.add_layer("Conv2D", [y], name=f"conv{i}", filters=32, padding="same")
            features = g.add_layer("Concatenate", [features, y], name=f"cat{i}")
        return g


def main() -> None:
    graph = dense_graph()
    analyze(graph)
    times = []
    for _ in range(20):
        start = time.perf_counter()
        analyze(graph)
        times.append((time.perf_counter() - start) * 1000)
    ours = statistics.median(times)
    from cnnstudio.modeling.builder import build_model

    start = time.perf_counter()
    build_model(graph)
    keras_ms = (time.perf_counter() - start) * 1000
    print(f"nodes: {len(graph)}")
    print(f"analysis median: {ours:.1f} ms (goal < {GOAL_MS:.0f} ms: {'met' if ours < GOAL_MS else 'MISSED'})")
    print(f"keras functional build: {keras_ms:.0f} ms")
    print(f"ratio keras/ours: {keras_ms / ours:.1f}x")


if __name__ == "__main__":
    main()
