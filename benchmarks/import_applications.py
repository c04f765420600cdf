"""Every keras.applications architecture, saved by plain Keras, imports with Keras's exact
parameter count.

Each model is built as Keras ships it (weights=None; 10 classes to keep the classifier
small), saved with model.save(.keras), loaded by CNN Studio's loader and imported; the
graph's analysis must count exactly model.count_params(). Families that accept any input
size are also built without a top at a flexible None×None input. Slow (minutes, a few GB of
memory for ConvNeXtXLarge): a script, not a test; tests/modeling/test_import_flexible.py
checks a representative dozen in the suite.

    python benchmarks/import_applications.py [--fixed-only] [NAME ...]

--fixed-only skips the second, flexible-input build (half the time on 2 cores).

The last line prints how many imported exactly, e.g. "imported exactly: 40/40 (ratio 1.00)".
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def check(name: str, folder: Path, flexible: bool) -> tuple[bool, str]:
    import keras

    from cnnstudio.errors import StudioError
    from cnnstudio.graph.analysis import analyze
    from cnnstudio.modeling.importer import graph_from_keras, load_keras_model

    constructor = getattr(keras.applications, name)
    if flexible:
        model = constructor(weights=None, include_top=False, input_shape=(None, None, 3))
    else:
        model = constructor(weights=None, classes=10)
    path = folder / f"{name}{'-flexible' if flexible else ''}.keras"
    model.save(path)
    expected = model.count_params()
    del model
    keras.backend.clear_session()
    try:
        result = graph_from_keras(load_keras_model(path))
    except StudioError as exc:
        return False, str(exc)[:300]
    finally:
        path.unlink(missing_ok=True)
    counted = analyze(result.graph).total_params
    return counted == expected, f"{counted} vs Keras {expected}"


def main(argv: list[str]) -> int:
    import keras

    fixed_only = "--fixed-only" in argv
    argv = [a for a in argv if a != "--fixed-only"]
    names = argv or sorted(n for n in dir(keras.applications) if n[0].isupper())
    flexible_families = ("ConvNeXt", "DenseNet", "EfficientNet", "MobileNet", "ResNet", "Inception", "Xception", "VGG")
    passed = 0
    failures = []
    with tempfile.TemporaryDirectory(prefix="cnnstudio-apps-") as folder:
        for name in names:
            start = time.perf_counter()
            ok, detail = check(name, Path(folder), flexible=False)
            if ok and not fixed_only and name.startswith(flexible_families):
                ok, flexible_detail = check(name, Path(folder), flexible=True)
                detail += f"; None×None: {flexible_detail}"
            passed += ok
            if not ok:
                failures.append(name)
            print(f"{'ok  ' if ok else 'FAIL'} {name:20s} {time.perf_counter() - start:6.1f} s  {detail}", flush=True)
    if failures:
        print("failed:", ", ".join(failures))
    print(f"imported exactly: {passed}/{len(names)} (ratio {passed / len(names):.2f})")
    return 0 if passed == len(names) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
