"""The panels' TensorFlow helper: ``python -m cnnstudio.helpers.panel_helper``.

A long-lived child process so the window never imports TensorFlow. It reads one JSON
request per line on stdin and answers one JSON line on stdout (TensorFlow's noise goes to
stderr). Requests:
- {"id", "op": "augment", "images": [paths], "shape": [h, w, c], "resize", "settings", "seed",
  "variants", "out": file.npz} -> writes variants (N, V, H, W, C) uint8, the training layer's
  code path (cnnstudio.modeling.augmentation.preview)
- {"id", "op": "predict", "model": run dir/.keras/SavedModel, "checkpoint", "images": [paths],
  "top_k", "gradcam": bool, "out": file.npz} -> top-k per image; Grad-CAM overlays in the npz
Answers: {"id", "ok": true, ...} or {"id", "ok": false, "error": message}.
No Qt here. The Qt side is cnnstudio/gui/panels/helper.py; docs/helper-protocol.md
describes the protocol for other clients.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np


def augment(request: dict[str, Any]) -> dict[str, Any]:
    from cnnstudio.data import formats
    from cnnstudio.modeling.augmentation import preview

    shape = tuple(int(v) for v in request["shape"])
    images = np.stack([formats.load_image(p, shape, request.get("resize", "stretch")) for p in request["images"]])
    variants = preview(images, request["settings"], int(request.get("seed", 0)), int(request.get("variants", 4)))
    np.savez(request["out"], variants=variants, originals=images)
    return {"count": len(images)}


_predictors: dict[tuple[str, str | None], Any] = {}


def predict(request: dict[str, Any]) -> dict[str, Any]:
    from cnnstudio.export.images import load_images
    from cnnstudio.export.predict import load_predictor, predict_files

    key = (str(Path(request["model"]).resolve()), request.get("checkpoint"))
    if key not in _predictors:
        _predictors.clear()  # one model at a time: memory
        _predictors[key] = load_predictor(request["model"], request.get("checkpoint"))
    predictor = _predictors[key]
    paths = [str(p) for p in request["images"]]
    results = predict_files(predictor, paths, int(request.get("top_k", 5)))
    arrays: dict[str, np.ndarray] = {}
    images = load_images([Path(p) for p in paths], predictor.shape, predictor.resize)
    notes = []
    for i, image in enumerate(images):
        arrays[f"input_{i}"] = image
        if request.get("gradcam") and predictor.model is not None:
            from cnnstudio.export.gradcam import explain

            try:
                _heat, overlay, _index = explain(predictor.model, image)
                arrays[f"gradcam_{i}"] = overlay
            except Exception as exc:  # a model without a spatial layer: say so, keep the bars
                notes.append(f"Grad-CAM unavailable: {exc}")
    if request.get("gradcam") and predictor.model is None:
        notes.append("Grad-CAM needs a run directory or a .keras model (a SavedModel has no gradients here).")
    np.savez(request["out"], **arrays)
    return {"results": results, "notes": sorted(set(notes))}


OPERATIONS = {"augment": augment, "predict": predict}


def handle(request: dict[str, Any]) -> dict[str, Any]:
    from cnnstudio.errors import StudioError

    op = OPERATIONS.get(request.get("op", ""))
    if op is None:
        return {"id": request.get("id"), "ok": False, "error": f"unknown operation {request.get('op')!r}"}
    try:
        return {"id": request.get("id"), "ok": True, **op(request)}
    except (StudioError, OSError, ValueError) as exc:
        return {"id": request.get("id"), "ok": False, "error": str(exc)}
    except Exception as exc:  # any other failure is reported, the helper stays up
        return {"id": request.get("id"), "ok": False, "error": f"{type(exc).__name__}: {exc}"}


def main() -> int:
    from cnnstudio.helpers.serve import serve

    return serve(lambda request, write: handle(request))


if __name__ == "__main__":
    sys.exit(main())
