"""Preview computations for the Data panel (run in a thread worker; numpy + Pillow, no Qt/TF).

Everything is delegated to cnnstudio.data: the split and statistics come from
prepare_data on a copy of the project, the images from data.preview.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnstudio.data import formats, prepare_data, preview
from cnnstudio.data.progress import TaskState
from cnnstudio.data.statistics import MAX_WHITENING_FEATURES
from cnnstudio.errors import StudioError

PREVIEW_IMAGES = 300  # statistics for the preview come from at most this many training images


def split_counts(project: Any, state: TaskState | None = None, data: Any = None, scan: Any = None) -> dict[str, Any]:
    """Images per subset and class after curation and the split settings (project untouched).
    `scan`: the panel's ScanResult, shared (nothing is listed or checked again)."""
    data = data or prepare_data(project.copy(), progress=state, scan=scan)
    return {"classes": data.class_names, "counts": {s: data.counts(s) for s in ("train", "val", "test")},
            "warnings": list(data.warnings)}


def both_previews(project: Any, state: TaskState | None = None, scan: Any = None) -> dict[str, Any]:
    """The split and the preprocessing preview from one prepare_data (after a scan both are due:
    one pass over the folder's files instead of two at once)."""
    data = prepare_data(project.copy(), progress=state, scan=scan)
    return {"split": split_counts(project, state, data), "preprocessing": safe(preprocessing_preview, project,
                                                                                state, data)}


def preprocessing_preview(project: Any, state: TaskState | None = None, data: Any = None,
                          scan: Any = None) -> dict[str, Any]:
    """Mean image, one sample normalised as configured and ZCA-whitened, all uint8 for display.

    With PCA/ZCA chosen, the statistics are the training run's own (same images, same ε, same
    function: PreparedData.statistics), so the preview shows what the network will receive;
    otherwise the ZCA picture is a cheaper estimate from at most PREVIEW_IMAGES images.
    """
    data = data or prepare_data(project.copy(), progress=state, scan=scan)
    chosen = project.preprocessing.get("normalization", "rescale")
    training_images = int(project.preprocessing.get("statistics_images", 2000))
    whitening = chosen in ("pca", "zca")
    images = training_images if whitening else min(training_images, PREVIEW_IMAGES)
    basic = data.statistics(max_images=images, normalization=chosen if whitening else "per_channel",
                            progress=state)
    path = data.files["train"][0][0]
    sample = formats.load_image(path, data.image_shape, project.preprocessing.get("resize", "stretch"))
    out: dict[str, Any] = {"sample": sample, "mean": preview.mean_image(basic), "count": basic.count,
                           "normalized": preview.normalized_sample(sample, basic, chosen), "note": "",
                           "warnings": list(basic.warnings)}
    if int(np.prod(data.image_shape)) <= MAX_WHITENING_FEATURES:
        zca = basic if chosen == "zca" else data.statistics(max_images=images, normalization="zca", progress=state)
        out["whitened"] = preview.whitened_sample(sample, zca, "zca")
        automatic = project.preprocessing.get("whitening_epsilon") is None
        out["note"] = f"Whitening ε = {zca.epsilon:.3g}" + (" (chosen from the data)." if automatic else ".")
        if chosen == "pca":
            out["note"] += " PCA gives component scores, not pixels: shown row by row, strongest first."
    else:
        out["note"] = (f"Whitening needs at most {MAX_WHITENING_FEATURES} values per image; this input has "
                       f"{int(np.prod(data.image_shape))}.")
    return out


def safe(function, *args) -> dict[str, Any]:
    """Run a preview; a StudioError (cancel included) becomes {"error": message} for the panel."""
    try:
        return function(*args)
    except StudioError as exc:
        return {"error": str(exc)}
