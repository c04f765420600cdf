"""Editor scene on DenseNet-201 fully expanded (700+ nodes): build time (goal < 1 s) and one
edit -> analysis -> repaint round trip (goal < 100 ms), plus a pan/zoom repaint; and ResNet-50
expanded from its collapsed stages, layout with long-edge lanes included (goal < 0.5 s: it
must stay interactive).

Uses the zoo's DenseNet-201 when cnnstudio.zoo is present, else a generated dense graph of
the same size. Last line: the worse of the two ratios to their goals (below 1 meets both).
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from cnnstudio.graph import commands as cmd  # noqa: E402
from cnnstudio.graph.model import Graph  # noqa: E402

BUILD_GOAL_S = 1.0
EDIT_GOAL_S = 0.100
EXPAND_GOAL_S = 0.5


def densenet() -> Graph:
    try:
        from cnnstudio import zoo

        return zoo.create("densenet", depth=201)
    except (ImportError, AttributeError):
        g = Graph(name="dense700")
        x = g.add_layer("Input", name="input", height=224, width=224, channels=3)
        for i in range(175):
            y = g.add_layer("BatchNorm", [x], name=f"bn{i}", group=f"block{i // 25}")
            y = g.add_layer("Activation", [y], name=f"relu{i}", group=f"block{i // 25}")
            y = g.add_layer("Conv2D", [y], name=f"conv{i}", group=f"block{i // 25}", filters=32, padding="same")
            x = g.add_layer("Concatenate", [x, y], name=f"cat{i}", group=f"block{i // 25}")
        return g


def resnet_expand() -> tuple[float, float]:
    """Seconds to expand ResNet-50 in the editor, and for its layout alone (median of 5)."""
    from PySide6.QtWidgets import QApplication

    from cnnstudio import zoo
    from cnnstudio.graph.layout import graph_edges, sugiyama
    from cnnstudio.gui.editor.editor import ArchitectureEditor

    graph = zoo.create("resnet", depth=50)
    layouts = []
    for _ in range(5):
        start = time.perf_counter()
        sugiyama(graph.names, graph_edges(graph))
        layouts.append(time.perf_counter() - start)
    editor = ArchitectureEditor(graph)
    editor.resize(1400, 900)
    editor.show()
    QApplication.processEvents()
    expands = []
    for _ in range(3):
        editor.collapse_all()
        start = time.perf_counter()
        editor.expand_all()
        editor.view.viewport().repaint()
        expands.append(time.perf_counter() - start)
    editor.detach()
    return statistics.median(expands), statistics.median(layouts)


def main() -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from cnnstudio.gui.app import _application
    from cnnstudio.gui.editor.editor import ArchitectureEditor

    _application()
    graph = densenet()
    for node in graph:
        node.position = None  # measure the automatic layout too
    start = time.perf_counter()
    editor = ArchitectureEditor(graph)
    editor.expand_all()
    editor.resize(1400, 900)
    editor.show()
    editor.view.fit()
    editor.view.viewport().repaint()
    QApplication.processEvents()
    build = time.perf_counter() - start
    cards, edges = len(editor.scene.cards), len(editor.scene.edges)

    convs = [n.name for n in graph if n.type == "Conv2D"]
    editor.view.resetTransform()
    editor.view.centerOn(editor.scene.cards[convs[len(convs) // 2]])
    edits = []
    for i, name in enumerate(convs[10:30]):
        params = dict(graph[name].params, filters=int(graph[name].params.get("filters", 32)) + 1 + i % 2)
        start = time.perf_counter()
        editor.push(cmd.SetParams(name, params))
        editor.view.viewport().repaint()
        edits.append(time.perf_counter() - start)
    edit = statistics.median(edits)

    pans = []
    for step in range(20):
        start = time.perf_counter()
        editor.view.horizontalScrollBar().setValue(editor.view.horizontalScrollBar().value() + 15)
        editor.view.zoom(1.05 if step % 2 else 1 / 1.05)
        editor.view.viewport().repaint()
        pans.append(time.perf_counter() - start)
    # Fit stops where card text stays readable; the whole graph in view is the worst case.
    editor.view.fitInView(editor.scene.itemsBoundingRect(), Qt.AspectRatioMode.KeepAspectRatio)
    overview = []
    for step in range(10):
        start = time.perf_counter()
        editor.view.zoom(1.02 if step % 2 else 1 / 1.02)
        editor.view.viewport().repaint()
        overview.append(time.perf_counter() - start)
    editor.detach()
    expand, layout = resnet_expand()

    print(f"graph: {graph.name}, {len(graph)} nodes; scene: {cards} cards, {edges} edges")
    print(f"scene build incl. layout and first paint: {build * 1000:.0f} ms (goal < {BUILD_GOAL_S * 1000:.0f} ms)")
    print(f"edit -> analysis -> repaint, median of {len(edits)}: {edit * 1000:.1f} ms "
          f"(goal < {EDIT_GOAL_S * 1000:.0f} ms)")
    print(f"pan + zoom repaint at 100 %, median: {statistics.median(pans) * 1000:.1f} ms")
    print(f"zoom repaint with the whole graph in view, median: {statistics.median(overview) * 1000:.1f} ms")
    print(f"ResNet-50: Sugiyama layout of the 175 layers {layout * 1000:.0f} ms; expand all stages "
          f"(cards, lanes, first paint) {expand * 1000:.0f} ms (goal < {EXPAND_GOAL_S * 1000:.0f} ms)")
    ratio = max(build / BUILD_GOAL_S, edit / EDIT_GOAL_S, expand / EXPAND_GOAL_S)
    print(f"ratio ours/goal (worst of build, edit and expand): {ratio:.2f}")


if __name__ == "__main__":
    main()
