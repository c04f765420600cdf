"""Plan and run a fine-tuning: new classifier, frozen backbone part, lower backbone rate.

A fine-tuning is one or two ordinary training runs (cnnstudio.training) of a project whose
architecture is the source's, with the classifier sized for the new dataset, started from
the source's weights through the job's `initial_weights` file. Phase "head" trains the
classifier alone; phase "all" trains everything not frozen, the backbone at a lower rate.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnstudio.errors import ExportError, StudioError, TrainingError
from cnnstudio.finetune.start import Start, head_layer
from cnnstudio.graph.analysis import analyze
from cnnstudio.graph.model import Graph
from cnnstudio.project import Project, save_project
from cnnstudio.training.initial_weights import save_initial, weights_by_layer


@dataclass
class Options:
    data: Path
    out: Path
    freeze: str | None = None  # a layer name or group path: it and everything before it is frozen
    backbone_lr: float = 0.1  # backbone learning rate = this × the head's
    learning_rate: float | None = None
    epochs: int = 5
    head_epochs: int = 0  # > 0: first train the classifier alone for this many epochs
    batch_size: int | None = None
    checkpoint: str | None = None
    weights: Path | None = None  # local weights file for a keras.applications source
    input_size: int | None = None  # keras.applications input side (default 224)


@dataclass
class Phase:
    name: str
    project: Path
    initial: Path
    run_dir: Path
    epochs: int
    frozen: list[str] = field(default_factory=list)
    multipliers: dict[str, float] = field(default_factory=dict)  # layer -> learning-rate factor


def frozen_nodes(graph: Graph, freeze: str | None) -> list[str]:
    """Every node up to `freeze` (a node name, or the last node of a group path) in graph order."""
    if not freeze:
        return []
    order = [n for n in analyze(graph).order if graph[n].type != "Input"]
    if freeze in order:
        last = freeze
    else:
        members = [n for n in order if (graph[n].group or "") == freeze
                   or (graph[n].group or "").startswith(freeze.rstrip("/") + "/")]
        if not members:
            groups = sorted({graph[n].group for n in order if graph[n].group})
            raise TrainingError(f"--freeze {freeze!r}: no layer or group of that name. Layers: "
                                f"{', '.join(order[:12])}{'...' if len(order) > 12 else ''}; groups: "
                                f"{', '.join(groups) or 'none'}.")
        last = members[-1]
    return order[:order.index(last) + 1]


def count_classes(folder: Path) -> int | None:
    root = folder / "train" if (folder / "train").is_dir() else folder
    if not root.is_dir():
        raise TrainingError(f"--data {folder}: no such folder.")
    classes = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and any(p.iterdir())]
    return len(classes) or None


def phase_project(start: Start, options: Options, frozen: list[str], name: str) -> Project:
    project = start.project.copy()
    project.name = f"{start.project.name} fine-tuned ({name})"
    project.dataset["folder"] = str(Path(options.data).resolve())
    project.split = None  # a new dataset: a new split
    project.exclusions, project.relabels = [], {}
    graph = project.graph
    head = head_layer(graph)
    classes = count_classes(Path(options.data))
    if classes:
        graph[head].params["units"] = classes
    for node in graph:
        node.trainable = node.name not in frozen
    if options.learning_rate:
        project.training["learning_rate"] = float(options.learning_rate)
    if options.batch_size:
        project.training["batch_size"] = int(options.batch_size)
    return project


def plan(start: Start, options: Options) -> list[Phase]:
    """Write each phase's project and initial-weights file under options.out; return the phases."""
    out = Path(options.out)
    for name in ("head", "all", "finetune"):
        if (out / f"{name}-run").exists():
            raise TrainingError(f"-o {out}: already holds a fine-tuning ({name}-run); choose another folder "
                                "(nothing is overwritten).")
    out.mkdir(parents=True, exist_ok=True)
    graph = start.project.graph
    head = head_layer(graph)
    backbone = [n.name for n in graph if n.name != head and n.type != "Input"]
    weights = {k: v for k, v in start.weights.items() if k != head}  # the classifier starts afresh
    frozen = frozen_nodes(graph, options.freeze)
    if head in frozen:
        raise TrainingError(f"--freeze {options.freeze!r} would freeze the classifier {head!r} too.")
    phases = []
    if options.head_epochs > 0:
        phases.append(("head", backbone, options.head_epochs, {}))
    factors = {n: float(options.backbone_lr) for n in backbone if n not in frozen}
    phases.append(("all" if phases else "finetune", frozen, options.epochs, factors))
    result = []
    for index, (name, frozen_here, epochs, multipliers) in enumerate(phases):
        project = phase_project(start, options, frozen_here, name)
        project.training["epochs"] = int(epochs)
        project_path = save_project(project, out / f"{name}.cnnproj")
        initial = out / f"{name}.initial.npz"
        if index == 0:  # later phases start from the previous run's weights, written then
            save_initial(initial, weights, multipliers)
        result.append(Phase(name, project_path, initial, out / f"{name}-run", int(epochs), list(frozen_here),
                            multipliers))
    return result


def run_phases(phases: list[Phase], log=None) -> list[dict[str, Any]]:
    """Train each phase through the engine; a phase starts from the previous phase's weights."""
    from cnnstudio.export.sources import load_run
    from cnnstudio.training.job import Job
    from cnnstudio.training.rundir import RunDirectory
    from cnnstudio.training.worker import run_job

    results = []
    for index, phase in enumerate(phases):
        if index > 0:
            previous = load_run(phases[index - 1].run_dir, "last").model
            save_initial(phase.initial, weights_by_layer(previous), phase.multipliers)
        if log:
            log(f"phase {phase.name}: {phase.epochs} epochs, {len(phase.frozen)} frozen layers -> {phase.run_dir}")
        stream = io.StringIO()
        status = run_job(Job(project=str(phase.project), run_dir=str(phase.run_dir),
                             initial_weights=str(phase.initial)), stream)
        run = RunDirectory(phase.run_dir, writer=False).read_run()
        if status != 0:
            raise TrainingError(f"fine-tuning phase {phase.name!r} failed: {run.get('error') or 'see '}"
                                f"{'' if run.get('error') else phase.run_dir / 'events.jsonl'}")
        results.append({"phase": phase.name, "run_dir": str(phase.run_dir), "project": str(phase.project),
                        "epochs": phase.epochs, "frozen": phase.frozen, **{
                            k: run.get(k) for k in ("status", "best_metric", "best_epoch", "epochs_completed")}})
    return results


def finetune(source: str | Path, options: Options, log=None) -> list[dict[str, Any]]:
    from cnnstudio.finetune.sources import resolve_start  # loads Keras: only when running

    try:
        start = resolve_start(source, options)
    except ExportError as exc:
        raise TrainingError(str(exc)) from None
    except StudioError:
        raise
    if log:
        log(f"starting from {start.description}")
    return run_phases(plan(start, options), log)
