"""Run a job under MirroredStrategy on two logical CPUs and report on the replicas (a script).

`python -m tests.training.mirrored_probe JOB.json` prints one JSON line: the strategy, the
number of replicas, and whether every mirrored variable holds identical values on both.

`python -m tests.training.mirrored_probe --worker JOB.json OPENED.txt` runs one worker of a
multi-worker job (TF_CONFIG set by the caller) on the project's folder, streamed from disk;
it appends every image file the input pipeline opens to OPENED.txt and prints one JSON line:
the strategy, the steps per epoch, a digest of the final weights, and how many validation
images the last evaluation counted.
"""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np


def count_opened_files(record) -> None:
    """Call `record(path)` for every image the input pipeline opens (TensorFlow's reads and Pillow's)."""
    import tensorflow as tf

    from cnnstudio.data import formats

    read_file, load_image = tf.io.read_file, formats.load_image

    def note(path):
        record(path.decode() if isinstance(path, bytes) else str(path))
        return path

    def counted_read_file(filename, name=None):
        filename = tf.reshape(tf.numpy_function(note, [filename], tf.string, stateful=True), [])
        return read_file(filename, name=name)

    def counted_load_image(path, *args, **kwargs):
        note(path)
        return load_image(path, *args, **kwargs)

    raw_read_file = tf.raw_ops.ReadFile  # the block decoder (data/pipeline_decode.py) reads through the raw op

    def counted_raw_read_file(filename, name=None):
        filename = tf.reshape(tf.numpy_function(note, [filename], tf.string, stateful=True), [])
        return raw_read_file(filename=filename, name=name)

    tf.io.read_file = counted_read_file
    tf.raw_ops.ReadFile = counted_raw_read_file
    formats.load_image = counted_load_image


def worker_main(job_file: str, opened_file: str) -> int:
    """One worker of a multi-worker run on a streamed folder, counting the files it opens."""
    from cnnstudio.inspect import histograms
    from cnnstudio.training import data_source
    from cnnstudio.training.job import load_job
    from cnnstudio.training.worker import run_job

    data_source.MEMORY_LIMIT = 0  # stream the folder however small it is
    # No weight histograms: their fixed sample (the first 16 validation images, read once by
    # the chief) would blur the count of what each worker's input pipeline reads.
    histograms.attach = lambda trainer: None
    with open(opened_file, "a", encoding="utf-8") as log:
        def record(path: str) -> None:
            log.write(path + "\n")
            log.flush()

        count_opened_files(record)
        report: dict = {}

        def inspect(trainer) -> None:
            _loss, _accuracy, matrix = trainer.evaluate()  # every worker takes part in the collectives
            digest = hashlib.sha1()
            for variable in trainer.model.weights:
                digest.update(np.ascontiguousarray(variable.numpy()).tobytes())
            report.update(strategy=trainer.placement.name, steps_per_epoch=trainer.steps_per_epoch,
                          sharded=getattr(trainer.data, "shards", None) is not None, weights=digest.hexdigest(),
                          val_counted=None if matrix is None else int(round(float(matrix.sum()))))

        code = run_job(load_job(job_file), None, inspect=inspect)
    print(json.dumps({"code": code, **report}))
    return code


def main(job_file: str) -> int:
    from cnnstudio.training.job import load_job
    from cnnstudio.training.strategy import split_cpu
    from cnnstudio.training.worker import run_job

    split_cpu(2)
    report: dict = {}

    def inspect(trainer) -> None:
        same = True
        for variable in trainer.model.trainable_variables:
            raw = getattr(variable, "_value", variable)  # the tf.distribute MirroredVariable
            values = [np.asarray(v.numpy()) for v in getattr(raw, "values", [raw])]
            report.setdefault("copies", len(values))
            same &= all(np.array_equal(values[0], other) for other in values[1:])
        report.update(strategy=trainer.placement.name, replicas=trainer.placement.replicas, identical=bool(same))

    code = run_job(load_job(job_file), None, inspect=inspect)
    print(json.dumps({"code": code, **report}))
    return code


if __name__ == "__main__":
    if sys.argv[1] == "--worker":
        sys.exit(worker_main(sys.argv[2], sys.argv[3]))
    sys.exit(main(sys.argv[1]))
