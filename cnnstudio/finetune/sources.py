"""Where a fine-tuning starts: a run, a .keras file, or a keras.applications model with local weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnnstudio.errors import StudioError, TrainingError
from cnnstudio.finetune.initial import architecture_of, weights_by_layer
from cnnstudio.project import Project

APPLICATION_PREFIX = "keras.applications."


def _project_from_card(card: dict[str, Any], where: Path) -> Project | None:
    data = card.get("project")
    if isinstance(data, dict):
        return Project.from_dict(data, where=f"{where} (model card)")
    return None


def _import(model: Any, where: str):
    """keras.Model -> (Graph, weights by node) through the Keras importer."""
    from cnnstudio.modeling.importer import graph_from_keras

    try:
        result = graph_from_keras(model)
    except TrainingError:
        raise
    except StudioError as exc:
        raise TrainingError(f"{where}: {exc}") from None
    return result.graph, result.weights


def from_run(path: Path, checkpoint: str | None):
    from cnnstudio.export.sources import _read_json, load_run

    source = load_run(path, checkpoint or "best")
    config = _read_json(path / "config.json")
    if not isinstance(config.get("project"), dict):
        raise TrainingError(f"{path}: config.json has no project snapshot; cannot fine-tune from this run.")
    project = Project.from_dict(config["project"], where=str(path / "config.json"))
    from cnnstudio.training.assembly import adapt_classes

    project.graph, _ = adapt_classes(project.graph, len(source.class_names))
    return project, weights_by_layer(source.model), f"run {path} ({source.checkpoint} checkpoint)"


def from_keras_file(path: Path):
    from cnnstudio.export.sources import read_keras_model, sidecar_card

    model = read_keras_model(path)
    card = sidecar_card(path)
    project = _project_from_card(card, path)
    if project is None:  # a Keras model made elsewhere: import its architecture and weights
        graph, weights = _import(architecture_of(model), str(path))
        if not _ends_in_dense(graph):
            _add_classifier(graph)
        return Project(graph=graph, name=path.stem), weights, f"imported Keras file {path}"
    else:
        from cnnstudio.training.assembly import adapt_classes

        project.graph, _ = adapt_classes(project.graph, int(model.outputs[0].shape[-1]))
    return project, weights_by_layer(model), f"Keras file {path}"


def from_application(name: str, weights: Path | None, size: int | None):
    """keras.applications.NAME without its top, weights from a local file, imported as a graph."""
    import keras

    application = getattr(keras.applications, name, None)
    if not callable(application):
        raise TrainingError(f"keras.applications has no model {name!r} (e.g. MobileNetV2, ResNet50, EfficientNetB0).")
    if weights is None:
        raise TrainingError(f"{APPLICATION_PREFIX}{name} needs --weights FILE: a local weights file "
                            "(downloading is not possible here). Keras names them like "
                            f"{name.lower()}_..._notop.h5.")
    if not Path(weights).is_file():
        raise TrainingError(f"--weights {weights}: no such file. Download it once on a machine with internet "
                            "access and copy it here.")
    side = size or 224
    model = application(weights=None, include_top=False, pooling="avg", input_shape=(side, side, 3))
    try:
        model.load_weights(str(weights))
    except Exception as exc:  # h5py/Keras raise many kinds for a mismatched file
        raise TrainingError(f"--weights {weights}: does not fit {name} without its top ({exc}).") from None
    graph, imported = _import(model, f"{APPLICATION_PREFIX}{name}")
    _add_classifier(graph)  # include_top=False: the new classifier goes after the pooled features
    return Project(graph=graph, name=name), imported, f"{APPLICATION_PREFIX}{name} + {weights}"


def _ends_in_dense(graph) -> bool:
    from cnnstudio.finetune.plan import head_layer

    try:
        head_layer(graph)
    except TrainingError:
        return False
    return True


def _add_classifier(graph) -> None:
    features = graph.outputs[0]
    head = graph.add_layer("Dense", [features], name=graph.unique_name("classifier"), units=2,
                           activation="softmax", group="head")
    if graph.declared_outputs:
        graph.set_outputs([head])


def resolve_start(source: str | Path, options):
    from cnnstudio.finetune.plan import Start

    text = str(source)
    if text.startswith(APPLICATION_PREFIX):
        project, weights, description = from_application(text[len(APPLICATION_PREFIX):], options.weights,
                                                          options.input_size)
        return Start(project, weights, description)
    path = Path(text)
    if not path.exists():
        raise TrainingError(f"{path}: no such run directory or .keras file.")
    if path.is_dir():
        project, weights, description = from_run(path, options.checkpoint)
    elif path.suffix == ".keras":
        project, weights, description = from_keras_file(path)
    else:
        raise TrainingError(f"{path}: fine-tune from a run directory, a .keras file or "
                            f"{APPLICATION_PREFIX}NAME --weights FILE.")
    return Start(project, weights, description)
