"""Where a fine-tuning starts: a run, a .keras file, or a keras.applications model with local weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnnstudio.errors import StudioError, TrainingError
from cnnstudio.finetune.start import Start, head_layer
from cnnstudio.project import Project
from cnnstudio.training.initial_weights import architecture_of, weights_by_layer

APPLICATION_PREFIX = "keras.applications."
# How each keras.applications family expects its pixels (its preprocess_input mode).
SCALED_TO_PLUS_MINUS_ONE = {"mobilenet", "mobilenet_v2", "inception_v3", "inception_resnet_v2", "nasnet",
                            "resnet_v2", "xception"}
NEEDS_OWN_MEANS = {"densenet", "resnet", "vgg16", "vgg19"}  # torch/caffe per-channel means


def match_input_scaling(project: Project, family: str | None = None) -> str | None:
    """Feed the backbone the pixel range it was trained on; returns a note when only approximate.

    Our preprocessing rescales to [0, 1]. A model whose first layer rescales by itself wants raw
    0..255 pixels; the "tf" families want [-1, 1] (x / 127.5 - 1).
    """
    graph = project.graph
    inputs = graph.inputs()
    consumers = graph.consumers()
    if inputs and any(graph[c].type == "Rescaling" for c in consumers[inputs[0]]):
        project.preprocessing["normalization"] = "none"
        return None
    if family in SCALED_TO_PLUS_MINUS_ONE and inputs:
        source = inputs[0]
        scale = graph.add_layer("Rescaling", [source], name=graph.unique_name("input_scaling"),
                                scale=1 / 127.5, offset=-1.0)
        for name in consumers[source]:
            graph[name].inputs = [scale if i == source else i for i in graph[name].inputs]
        project.preprocessing["normalization"] = "none"
        return None
    if family in NEEDS_OWN_MEANS:
        return (f"{family} was trained on mean-subtracted pixels (its preprocess_input); the project rescales "
                "to [0, 1] instead, which fine-tuning has to adapt to.")
    if family is not None:
        project.preprocessing["normalization"] = "none"  # EfficientNet, ConvNeXt, ...: scaling is built in
    return None


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
        project = Project(graph=graph, name=path.stem)
        match_input_scaling(project)
        return project, weights, f"imported Keras file {path}"
    else:
        from cnnstudio.training.assembly import adapt_classes

        project.graph, _ = adapt_classes(project.graph, int(model.outputs[0].shape[-1]))
    return project, weights_by_layer(model), f"Keras file {path}"


def from_imported_project(path: Path):
    """A project made by `cnnstudio import_keras`, with its weights file beside it."""
    from cnnstudio.modeling.importer import read_weights, weights_path_for
    from cnnstudio.project import load_project

    project = load_project(path)
    # The project's own record first; older imports only follow the naming convention.
    weights_file = project.weights_file() or weights_path_for(path)
    if not weights_file.exists():
        raise TrainingError(f"{path}: no weights beside it ({weights_file.name}); a project alone is an untrained "
                            "architecture. Fine-tune from a run, a .keras file or an imported model.")
    try:
        weights = read_weights(weights_file)
    except (OSError, ValueError, KeyError) as exc:
        raise TrainingError(f"{weights_file}: unreadable weights file ({exc}).") from None
    if not _ends_in_dense(project.graph):
        _add_classifier(project.graph)
    match_input_scaling(project)
    return project, weights, f"imported model {path} + {weights_file.name}"


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
    project = Project(graph=graph, name=name)
    note = match_input_scaling(project, application.__module__.rsplit(".", 1)[-1])
    description = f"{APPLICATION_PREFIX}{name} + {weights}" + (f" (note: {note})" if note else "")
    return project, imported, description


def _ends_in_dense(graph) -> bool:
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
    elif path.suffix in (".cnnproj", ".json"):
        project, weights, description = from_imported_project(path)
    else:
        raise TrainingError(f"{path}: fine-tune from a run directory, a .keras file, an imported project "
                            f"(*.cnnproj with its .weights.npz) or {APPLICATION_PREFIX}NAME --weights FILE.")
    return Start(project, weights, description)
