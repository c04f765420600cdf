"""Run a job under MirroredStrategy on two logical CPUs and report on the replicas (a script).

`python -m tests.training.mirrored_probe JOB.json` prints one JSON line: the strategy, the
number of replicas, and whether every mirrored variable holds identical values on both.
"""

from __future__ import annotations

import json
import sys

import numpy as np


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
    sys.exit(main(sys.argv[1]))
