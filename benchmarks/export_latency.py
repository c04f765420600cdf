"""Deployment flavours side by side: per-image CPU latency and file size of the SavedModel and of
TFLite float32 / float16 / int8, on the bundled sample model and on a ResNet-50 (zoo), one table.

    python benchmarks/export_latency.py [--epochs 2] [--skip-resnet] [--threads N] [--repeats 50]

The sample model is trained here for a few epochs on the bundled digits and calibrated on
its own training images; the ResNet-50 (224x224x3, 1000 classes) keeps its initial weights
and is calibrated on noise images: its rows measure speed and size only. Latency is the
median of single-image calls after a warm-up: SavedModel through its `probabilities`
signature (TensorFlow, all cores), TFLite through the interpreter with XNNPACK (threads
stated). The last line is the int8/float32 TFLite latency ratio on the largest model.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402


def savedmodel_latency(folder: Path, images: np.ndarray, repeats: int) -> float:
    import tensorflow as tf

    signature = tf.saved_model.load(str(folder)).signatures["probabilities"]
    for i in range(5):
        signature(images=tf.constant(images[i % len(images)][None]))
    times = []
    for i in range(repeats):
        value = tf.constant(images[i % len(images)][None])
        started = time.perf_counter()
        signature(images=value)["probabilities"].numpy()
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1000)


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def measure(name: str, serving, class_names: list[str], shape: tuple[int, int, int], calibration: np.ndarray,
            images: np.ndarray, work: Path, threads: int, repeats: int) -> list[tuple]:
    from cnnstudio.export import tflite
    from cnnstudio.export.savedmodel import export_savedmodel
    from cnnstudio.export.tflite_runtime import TFLiteClassifier

    saved = export_savedmodel(serving, class_names, shape, "stretch", work / f"{name}-savedmodel", {})
    reference = np.argmax(np.asarray(serving(images, training=False)), axis=-1)
    rows = [(name, "SavedModel", folder_bytes(saved), savedmodel_latency(saved, images, repeats), "all cores", 0.0,
             1.0)]
    float_input = tflite.float_input_savedmodel(serving, shape, work / f"{name}-float-input")
    for flavour in ("none", "float16", "int8"):
        out = work / f"{name}-{flavour}.tflite"
        started = time.perf_counter()
        if flavour == "int8":
            tflite.convert(float_input, out, "int8", calibration)
        else:
            tflite.convert(saved, out, flavour)
        seconds = time.perf_counter() - started
        classifier = TFLiteClassifier(out, threads)
        agreement = float(np.mean(np.argmax(classifier(images), axis=-1) == reference))
        rows.append((name, f"TFLite {'float32' if flavour == 'none' else flavour}", out.stat().st_size,
                     classifier.latency_ms(images, repeats=repeats), f"{threads} threads", seconds, agreement))
        print(f"  {name}: {rows[-1][1]} converted in {seconds:.1f} s", file=sys.stderr, flush=True)
    return rows


def sample_model(work: Path, epochs: int):
    """The bundled sample project trained for `epochs` in this process; (serving, classes, shape, calibration, images)."""
    import io

    from cnnstudio.export import deploy_data
    from cnnstudio.export.inference import inference_model, input_spec
    from cnnstudio.export.sources import load_source
    from cnnstudio.paths import sample_project
    from cnnstudio.training.job import Job
    from cnnstudio.training.worker import run_job

    project = work / "sample"
    shutil.copytree(sample_project().parent, project)
    run = work / "sample-run"
    status = run_job(Job(project=str(project / "sample.cnnproj"), run_dir=str(run), epochs=epochs), io.StringIO())
    if status != 0:
        raise SystemExit("training the sample project failed")
    source = load_source(run)
    serving = inference_model(source.model, source.from_logits)
    shape, _dtype = input_spec(serving)
    found = deploy_data.find_deploy_images(source)
    calibration, _labels = deploy_data.calibration_images(found, 200, shape, "stretch")
    images, _labels = deploy_data.load_labelled(found.val[:50], shape, "stretch")
    return serving, source.class_names, shape, calibration, images


def resnet50():
    from cnnstudio import zoo
    from cnnstudio.export.inference import inference_model
    from cnnstudio.project import Project
    from cnnstudio.training.assembly import assemble

    shape = (224, 224, 3)
    project = Project(graph=zoo.create("resnet", size=shape[:2], channels=3, classes=1000, depth=50), name="r50")
    classes = [f"class_{i}" for i in range(1000)]
    built = assemble(project, classes, shape, None, 0)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (8, *shape), dtype=np.uint8)
    calibration = rng.integers(0, 256, (16, *shape), dtype=np.uint8)
    return inference_model(built.model, built.from_logits), classes, shape, calibration, images


def int8_units() -> str:
    """The CPU's int8 matrix instructions (VNNI, AMX), which decide how much faster int8 runs."""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return ""
    found = [name for name in ("avx512_vnni", "avx_vnni", "amx_int8") if f" {name}" in flags]
    return f", int8 units: {', '.join(found)}" if found else ", no VNNI/AMX int8 units"


def main() -> None:
    from cnnstudio.export.tflite_runtime import default_threads, runtime_name

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2, help="training epochs of the sample model")
    parser.add_argument("--skip-resnet", action="store_true", help="the sample model only")
    parser.add_argument("--threads", type=int, default=default_threads())
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    rows: list[tuple] = []
    with tempfile.TemporaryDirectory(prefix="cnnstudio-latency-") as temporary:
        work = Path(temporary)
        rows += measure("sample", *sample_model(work, args.epochs), work, args.threads, args.repeats)
        if not args.skip_resnet:
            rows += measure("ResNet-50", *resnet50(), work, args.threads, max(10, args.repeats // 5))
    print(f"per-image latency on this CPU ({os.cpu_count()} cores{int8_units()}; TFLite: {runtime_name()} + XNNPACK)")
    print(f"{'model':<10} {'flavour':<15} {'size':>10} {'vs SavedModel':>13} {'latency':>11} {'same top-1':>10}  "
          "runtime")
    for model in dict.fromkeys(row[0] for row in rows):
        group = [row for row in rows if row[0] == model]
        base = group[0][2]
        for row in group:
            print(f"{model:<10} {row[1]:<15} {row[2] / 2**20:>8.2f} MB {row[2] / base:>13.2f} {row[3]:>8.3f} ms "
                  f"{row[6]:>10.0%}  {row[4]}")
    print("same top-1: share of the latency images whose top class is the float Keras model's (sample: its "
          "validation images; ResNet-50: random weights on noise images, a check of the conversion, not accuracy)")
    last = [row for row in rows if row[0] == rows[-1][0]]
    by_flavour = {row[1]: row[3] for row in last}
    ratio = by_flavour["TFLite int8"] / by_flavour["TFLite float32"]
    print(f"ratio int8/float32 TFLite latency ({last[0][0]}): {ratio:.2f}x (below 1 = int8 faster)")


if __name__ == "__main__":
    main()
