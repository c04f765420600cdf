"""Turn what went wrong into an `error` event a person can act on."""

from __future__ import annotations

import traceback

from cnnstudio.errors import DatasetError, GraphError, StudioError


class NanLossError(StudioError):
    """The loss became NaN or infinite."""


def classify(exc: BaseException, batch_size: int | None = None) -> tuple[str, str, str]:
    """(category, message, detail) for the `error` event."""
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()[-2000:]
    name = type(exc).__name__
    text = str(exc)
    if isinstance(exc, NanLossError):
        return "nan_loss", text, detail
    if isinstance(exc, GraphError):
        where = f" (node {exc.node!r})" if getattr(exc, "node", None) else ""
        return "invalid_architecture", f"The architecture cannot be trained{where}: {text}", detail
    if isinstance(exc, DatasetError):
        return "data_error", text, detail
    if name == "ResourceExhaustedError" or isinstance(exc, MemoryError) or "OOM" in text[:400]:
        smaller = f" (now {batch_size})" if batch_size else ""
        return ("out_of_memory",
                f"Out of memory. Use a smaller batch size{smaller} or a smaller input image size, turn on "
                "mixed precision on a GPU, or close other programs using the GPU.", detail)
    if "tf2xla conversion failed" in text or "XLA compilation" in text:
        return ("other", "XLA could not compile this model's train step. Turn off the XLA option "
                "(Training settings) and start again.", detail)
    # Words from TensorFlow's decoders only: a traceback path such as "image.py" is not a bad file.
    if name in ("InvalidArgumentError", "DataLossError") and any(
        word in text for word in ("decode", "Decode", "Not a JPEG", "Invalid PNG", "Corrupt", "corrupt",
                                  "Unknown image file format", "truncated")
    ):
        return "data_error", f"An image could not be read: {_first_line(text)}. Remove or replace that file.", detail
    if isinstance(exc, StudioError):
        return "other", text, detail
    return "other", f"Training stopped on an unexpected error: {name}: {_first_line(text)}", detail


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:300]
    return text[:300]
