"""ONNX export through Keras's own `model.export(format="onnx")` (tf2onnx underneath)."""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path
from typing import Any

from cnnstudio.errors import ExportError

INSTALL_HINT = "pip install 'cnnstudio[onnx]' (or: pip install onnx tf2onnx onnxruntime)"


def missing_packages() -> list[str]:
    return [name for name in ("onnx", "tf2onnx", "onnxruntime") if importlib.util.find_spec(name) is None]


def export_onnx(serving: Any, out: Path) -> Path:
    """Write OUT.onnx from the inference model (uint8 images in, probabilities out)."""
    missing = missing_packages()
    if missing:
        raise ExportError(f"ONNX export needs the packages {', '.join(missing)}, which are not installed. "
                          f"Install them with: {INSTALL_HINT}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".onnx", dir=out.parent)
    os.close(fd)
    try:
        # Keras exports only models that have been called once (their graph is traced then).
        import numpy as np

        shape = tuple(int(d) for d in serving.inputs[0].shape[1:])
        serving(np.zeros((1, *shape), dtype=serving.inputs[0].dtype), training=False)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # tf2onnx probes np.object
            serving.export(temporary, format="onnx", verbose=False)
        os.replace(temporary, out)
    except ExportError:
        raise
    except Exception as exc:  # tf2onnx reports unsupported ops with assorted exception types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExportError(f"ONNX export failed: {first}. Some layers have no ONNX equivalent in tf2onnx; "
                          "export to SavedModel or TFLite instead.") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return out
