"""keras.applications models saved by plain Keras, at a flexible None×None input, import with
Keras's exact parameter count (a representative dozen; benchmarks/import_applications.py runs
all 40 architectures)."""

from __future__ import annotations

import keras
import pytest

from cnnstudio.graph.analysis import analyze
from cnnstudio.modeling.importer import graph_from_keras, load_keras_model

FLEXIBLE = [
    ("MobileNetV3Small", {}),  # its default: flexible input with its top
    ("MobileNetV3Large", {"include_top": False}),
    ("MobileNet", {"include_top": False, "alpha": 0.25}),
    ("MobileNetV2", {"include_top": False, "alpha": 0.35}),
    ("EfficientNetB0", {"include_top": False}),
    ("EfficientNetV2B0", {"include_top": False}),
    ("DenseNet121", {"include_top": False}),
    ("ResNet50V2", {"include_top": False}),
    ("ConvNeXtTiny", {"include_top": False}),
    ("InceptionV3", {"include_top": False}),
    ("Xception", {"include_top": False}),
    ("VGG16", {"include_top": False}),
]


@pytest.mark.slow
@pytest.mark.parametrize("constructor, options", FLEXIBLE, ids=[name for name, _ in FLEXIBLE])
def test_flexible_input_models_saved_by_keras_import_exactly(tmp_path, constructor, options):
    model = getattr(keras.applications, constructor)(weights=None, **options)
    assert model.input_shape[1:3] == (None, None)
    path = tmp_path / f"{constructor}.keras"
    model.save(path)
    result = graph_from_keras(load_keras_model(path))
    analysis = analyze(result.graph)
    assert analysis.valid, analysis.errors
    assert analysis.total_params == model.count_params()
    image = result.graph[result.graph.inputs()[0]]
    assert (image.params["height"], image.params["width"]) == (None, None)  # sizes stay unknown
