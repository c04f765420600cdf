"""The inspection helper process: ``python -m cnnstudio.inspect.service``.

The window's Inside section sends one JSON request per line on stdin and reads JSON lines on
stdout: progress lines {"id", "progress": 0..1, "message"} while a request runs, then the
answer {"id", "ok": true, ...} or {"id", "ok": false, "error"}. Opened sources (and their
multi-output models) stay cached, so a second layer of the same source answers at once.
Requests (every one names "source" and optionally "checkpoint"; results go to "out", an .npz):
- describe -> {"layers": [{"name", "type", "shape", "conv"}], "classes", "notes", "trained"}
- maps {"image", "layers": [names], "stats_images": K} -> LayerMaps (cnnstudio.inspect.results)
- filters {"layer"} -> kernels
- saliency {"image", "method", "class_index"} -> heat map, image; {"class_index", "top": [[name, p]]}
- embed {"method", "split"} -> Embedding
No Qt here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

_probes: dict[tuple[str, str | None], Any] = {}
Reporter = Callable[[float, str], None]


def _probe(request: dict[str, Any]) -> Any:
    from cnnstudio.inspect.probe import open_probe

    key = (str(Path(request["source"]).resolve()), request.get("checkpoint"))
    if key not in _probes:
        if len(_probes) >= 2:  # memory: keep the two most recent sources
            _probes.pop(next(iter(_probes)))
        _probes[key] = open_probe(request["source"], request.get("checkpoint"))
    return _probes[key]


def describe(request: dict[str, Any], _report: Reporter) -> dict[str, Any]:
    from cnnstudio.inspect.probe import CONVOLUTIONS

    probe = _probe(request)
    layers = [{"name": layer.name, "type": type(layer).__name__, "shape": list(probe.output_shape(layer.name)),
               "conv": type(layer).__name__ in CONVOLUTIONS} for layer in probe.layers]
    return {"layers": layers, "classes": probe.class_names, "notes": probe.notes, "trained": probe.trained,
            "kind": probe.kind, "checkpoint": probe.checkpoint, "sample_image": _sample_image(probe)}


def _sample_image(probe: Any) -> str | None:
    """An image to start from: the run's first validation image, else the first in the dataset folder."""
    from cnnstudio.export.images import find_images
    from cnnstudio.training.val_predictions import read_val_predictions

    if probe.kind == "run":
        rows = (read_val_predictions(probe.path) or {}).get("predictions") or []
        if rows and Path(rows[0].get("path", "")).is_file():
            return str(rows[0]["path"])
    found = find_images(probe.dataset_folder, 1) if probe.dataset_folder is not None else []
    return str(found[0]) if found else None


def _batch(probe: Any, image: str, extra: int) -> np.ndarray:
    """The shown image first, then up to `extra` dataset images for the statistics."""
    from cnnstudio.export.images import find_images

    paths = [image]
    if extra and probe.dataset_folder is not None:
        paths += [str(p) for p in find_images(probe.dataset_folder, extra) if str(p) != image][:extra]
    return probe.load_images(paths)


_maps_cache: dict[tuple[Any, ...], dict[str, Any]] = {}


def maps(request: dict[str, Any], _report: Reporter) -> dict[str, Any]:
    """Every layer's maps for the image in one pass, cached: the next layer asked for answers at once."""
    from cnnstudio.inspect.features import feature_maps
    from cnnstudio.inspect.results import save_layer_maps

    probe = _probe(request)
    extra = int(request.get("stats_images", 0))
    key = (id(probe), request["image"], extra)
    wanted = list(request.get("layers") or []) or probe.conv_layer_names()
    cached = _maps_cache.get(key)
    if cached is None or any(name not in cached for name in wanted):
        for name in wanted:
            probe.layer(name)  # a bad name is an error, not a reason to compute everything
        images = _batch(probe, request["image"], extra)
        everything = list(dict.fromkeys([*probe.layer_names(), *wanted]))
        _maps_cache.clear()  # one image at a time: memory
        cached = _maps_cache[key] = {layer.name: layer for layer in feature_maps(probe, images, everything)}
    layers = [cached[name] for name in wanted]
    save_layer_maps(request["out"], layers)
    return {"layers": [layer.summary() for layer in layers], "batch": layers[0].batch_size if layers else 0}


def filters(request: dict[str, Any], _report: Reporter) -> dict[str, Any]:
    from cnnstudio.inspect.features import filters as kernels_of

    result = kernels_of(_probe(request), request["layer"])
    np.savez(request["out"], kernels=result.kernels)
    return {"shape": list(result.kernels.shape), "rgb": result.rgb}


def saliency(request: dict[str, Any], _report: Reporter) -> dict[str, Any]:
    from cnnstudio.inspect.saliency import saliency as explain

    probe = _probe(request)
    image = probe.load_images([request["image"]])[0]
    probabilities = probe.probabilities(image[None])[0]
    index = request.get("class_index")
    result = explain(probe, image, request["method"], None if index is None else int(index))
    np.savez(request["out"], heat=result.heat, image=image)
    order = np.argsort(-probabilities, kind="stable")[:5]
    return {"class_index": result.class_index, "class_name": result.class_name,
            "top": [[probe.class_names[i], float(probabilities[i])] for i in order]}


def embed(request: dict[str, Any], report: Reporter) -> dict[str, Any]:
    from cnnstudio.inspect.embedding import embed as embedding_of

    result = embedding_of(_probe(request), request.get("method", "pca"), request.get("split", "val"),
                          progress=report)
    result.save(request["out"])
    return {"count": len(result.images), "mistakes": int(result.mistakes.sum())}


OPERATIONS = {"describe": describe, "maps": maps, "filters": filters, "saliency": saliency, "embed": embed}


def handle(request: dict[str, Any], write: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    from cnnstudio.errors import StudioError

    number = request.get("id")
    op = OPERATIONS.get(request.get("op", ""))
    if op is None:
        return {"id": number, "ok": False, "error": f"unknown operation {request.get('op')!r}"}

    def report(fraction: float, message: str) -> None:
        write({"id": number, "progress": round(float(fraction), 4), "message": message})

    try:
        return {"id": number, "ok": True, **op(request, report)}
    except (StudioError, OSError, ValueError) as exc:
        return {"id": number, "ok": False, "error": str(exc)}
    except Exception as exc:  # any other failure is reported, the helper stays up
        return {"id": number, "ok": False, "error": f"{type(exc).__name__}: {exc}"}


def main() -> int:
    from cnnstudio.helpers.serve import serve

    return serve(handle)


if __name__ == "__main__":
    sys.exit(main())
