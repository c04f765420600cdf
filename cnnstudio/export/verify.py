"""Check an exported artefact against the in-app model, in a fresh process.

Sample images come from the dataset when it is known (decoded and resized as training
does), otherwise they are generated. A float format passes when every sample gets the same
top class and the largest probability difference is below TOLERANCE; a quantised one is
reported with its figures (quantisation changes probabilities by design).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.errors import ExportError
from cnnstudio.export.images import find_images, load_images

TOLERANCE = 1e-4
SAMPLE_COUNT = 8
CHILD = Path(__file__).with_name("verify_child.py")


@dataclass
class Samples:
    images: np.ndarray  # uint8 (or float for a bare architecture) [N,H,W,C]
    encoded: list[bytes]  # the same images as files (PNG/JPEG bytes), for the bytes signature
    origin: str  # "dataset: FOLDER" or "generated"
    files: list[str] = field(default_factory=list)


@dataclass
class Check:
    artefact: str
    format: str
    passed: bool
    samples: int
    sample_origin: str
    top_class_agreement: float
    max_abs_diff: float
    tolerance: float | None
    details: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_samples(shape: tuple[int, int, int], dtype: str, resize: str, folder: Path | None,
                 count: int = SAMPLE_COUNT, seed: int = 0) -> Samples:
    files = find_images(folder, count) if folder else []
    if files and dtype == "uint8":
        images = load_images(files, shape, resize)
        encoded = [Path(f).read_bytes() for f in files]
        return Samples(images, encoded, f"dataset: {folder}", [str(f) for f in files])
    rng = np.random.default_rng(seed)
    if dtype == "uint8":
        # Smooth blobs plus noise: more like photos than pure noise, so classes differ.
        images = rng.integers(0, 256, size=(count, *shape), dtype=np.uint8)
        encoded = [_encode_png(image) for image in images]
        return Samples(images, encoded, "generated")
    images = rng.random(size=(count, *shape)).astype(dtype)
    return Samples(images, [], "generated")


def _encode_png(image: np.ndarray) -> bytes:
    import tensorflow as tf

    return bytes(tf.io.encode_png(image).numpy())


def reference_outputs(model: Any, images: np.ndarray) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(model(images, training=False)), dtype=np.float32)


def run_child(fmt: str, artefact: Path, samples: Samples, timeout: float = 600) -> tuple[dict, dict]:
    """Outputs of the artefact computed by verify_child.py in a new interpreter."""
    artefact = Path(artefact).resolve()  # the child runs in a scratch folder
    with tempfile.TemporaryDirectory(prefix="cnnstudio-verify-") as folder:
        inputs = Path(folder) / "inputs.npz"
        encoded = {f"encoded_{i}": np.frombuffer(data, dtype=np.uint8) for i, data in enumerate(samples.encoded)}
        np.savez(inputs, images=samples.images, encoded_count=np.int64(len(samples.encoded)), **encoded)
        request = Path(folder) / "request.json"
        outputs = str(Path(folder) / "outputs.npz")
        request.write_text(json.dumps({"format": fmt, "artefact": str(artefact), "inputs": str(inputs),
                                       "outputs": outputs}), encoding="utf-8")
        env = dict(os.environ)
        # The child must find cnnstudio (for .keras custom layers) even when run from a checkout.
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = package_root + os.pathsep + env.get("PYTHONPATH", "") if fmt == "keras" else env.get("PYTHONPATH", "")
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        try:
            done = subprocess.run([sys.executable, str(CHILD), str(request)], capture_output=True, text=True,
                                  timeout=timeout, env=env, cwd=folder)
        except subprocess.TimeoutExpired:
            raise ExportError(f"Verification of {artefact} timed out after {timeout:.0f} s.") from None
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-3:])
            return {}, {"error": f"the artefact could not be loaded and run in a fresh process: {tail}"}
        with np.load(outputs, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        names = json.loads(Path(outputs + ".json").read_text(encoding="utf-8"))
    return arrays, names


def compare(fmt: str, artefact: Path, reference: np.ndarray, got: np.ndarray | None, samples: Samples,
            tolerance: float | None, details: list[str]) -> Check:
    if got is None or got.shape != reference.shape:
        shape = None if got is None else got.shape
        details.append(f"output shape {shape} differs from the in-app model's {reference.shape}")
        return Check(str(artefact), fmt, False, len(reference), samples.origin, 0.0, float("inf"), tolerance,
                     details)
    agreement = float(np.mean(np.argmax(got, -1) == np.argmax(reference, -1))) if len(reference) else 1.0
    diff = float(np.max(np.abs(got.astype(np.float64) - reference))) if reference.size else 0.0
    passed = not any(d.startswith("FAILED") for d in details)
    if tolerance is not None:
        passed = passed and agreement == 1.0 and diff < tolerance
    return Check(str(artefact), fmt, passed, len(reference), samples.origin, agreement, diff, tolerance, details)


def verify(fmt: str, artefact: Path, reference_model: Any, samples: Samples, class_names: list[str],
           quantized: bool = False) -> Check:
    """Load `artefact` in a fresh process and compare it with `reference_model` on `samples`."""
    reference = reference_outputs(reference_model, samples.images)
    tolerance = None if quantized else TOLERANCE
    arrays, names = run_child(fmt, artefact, samples)
    if "error" in names:
        return Check(str(artefact), fmt, False, len(reference), samples.origin, 0.0, float("inf"), tolerance,
                     [f"FAILED: {names['error']}"])
    details: list[str] = []
    key = "outputs" if fmt == "keras" else "probabilities"
    if fmt == "savedmodel":
        expected = [class_names[i] for i in np.argmax(reference, -1)]
        if names.get("class_name") != expected:
            details.append(f"FAILED: class_name outputs {names.get('class_name')} differ from {expected}")
        if "bytes_probabilities" in arrays:
            # samples.images went through the training loader (Pillow); the signature decodes
            # with TF ops that mirror it to within one grey level, so probabilities may move a
            # little: only a real disagreement (not a near-tie) fails.
            got = arrays["bytes_probabilities"]
            bytes_diff = float(np.max(np.abs(got - reference))) if reference.size else 0.0
            same_top = bool(np.all(np.argmax(got, -1) == np.argmax(reference, -1)))
            ok = same_top or bytes_diff < 1e-2
            details.append(f"{'' if ok else 'FAILED: '}serving_bytes on the encoded images: max |diff| "
                           f"{bytes_diff:.3g}, same top class: {same_top}")
    return compare(fmt, artefact, reference, arrays.get(key), samples, tolerance, details)

