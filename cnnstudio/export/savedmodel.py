"""SavedModel export through keras.export.ExportArchive, preprocessing and labels baked in.

Signatures:
- serving_default(images: uint8 [N,H,W,C]) -> probabilities [N,K], class_index [N], class_name [N]
- serving_bytes(image_bytes: string [N]) -> the same, decoding and resizing as training did
- probabilities(images: uint8 [N,H,W,C]) -> probabilities, class_index (numbers only: TFLite's input)
Class names ship as assets/class_names.txt (read by a lookup table), plus model_card.json.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

from cnnstudio.errors import ExportError
from cnnstudio.export.images import decode_and_resize
from cnnstudio.fileio import write_json_atomic

CLASS_FILE = "class_names.txt"
CARD_FILE = "model_card.json"
SIGNATURES = ("serving_default", "serving_bytes", "probabilities")


@contextlib.contextmanager
def quiet_tensorflow():
    """Silence TF's Python warnings: lookup-table initialisers "cannot be serialised" into v1
    collections, which SavedModel v2 does not use."""
    import logging

    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def check_class_names(names: list[str]) -> None:
    for name in names:
        if not name or "\n" in name or "\r" in name:
            raise ExportError(f"Class name {name!r} cannot be exported: names must be non-empty single lines.")


def export_savedmodel(serving: Any, class_names: list[str], shape: tuple[int, int, int], resize: str,
                      out: Path, card: dict[str, Any]) -> Path:
    """Write the SavedModel folder `out` (replaced as a whole only once complete)."""
    import keras
    import tensorflow as tf

    check_class_names(class_names)
    height, width, channels = shape
    out = Path(out)
    if out.exists():
        _check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        labels = staging / CLASS_FILE
        labels.write_text("".join(name + "\n" for name in class_names), encoding="utf-8")
        # The table reads the asset file, so SavedModel copies it into assets/ and the
        # names a client sees are exactly the ones in that file.
        table = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(str(labels), tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER,
                                          tf.string, tf.lookup.TextFileIndex.WHOLE_LINE),
            default_value="",
        )
        input_dtype = serving.inputs[0].dtype

        def probabilities(images):
            values = serving(tf.cast(images, input_dtype), training=False)
            values = tf.cast(values, tf.float32)
            return {"probabilities": values, "class_index": tf.argmax(values, axis=-1, output_type=tf.int32)}

        def classify(images):
            result = probabilities(images)
            result["class_name"] = table.lookup(tf.cast(result["class_index"], tf.int64))
            return result

        def classify_bytes(image_bytes):
            images = tf.map_fn(
                lambda data: decode_and_resize(data, height, width, channels, resize), image_bytes,
                fn_output_signature=tf.TensorSpec((height, width, channels), tf.uint8),
            )
            return classify(images)

        image_spec = tf.TensorSpec((None, height, width, channels), tf.uint8, name="images")
        archive = keras.export.ExportArchive()
        archive.track(serving)
        archive.track(table)
        archive.add_endpoint("serving_default", classify, [image_spec])
        archive.add_endpoint("serving_bytes", classify_bytes, [tf.TensorSpec((None,), tf.string, name="image_bytes")])
        archive.add_endpoint("probabilities", probabilities, [image_spec])
        model_dir = staging / "model"
        try:
            with quiet_tensorflow():
                archive.write_out(str(model_dir), verbose=False)
        except Exception as exc:
            raise ExportError(f"SavedModel export failed ({type(exc).__name__}: {exc}).") from None
        write_json_atomic(model_dir / CARD_FILE, card)
        if out.exists():
            shutil.rmtree(out)
        model_dir.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def _check_replaceable(out: Path) -> None:
    # Only ever replace a previous export, never an unrelated folder the user made.
    if not (out.is_dir() and (out / "saved_model.pb").exists()):
        raise ExportError(f"{out}: exists and is not a previous SavedModel export; choose another -o path.")
