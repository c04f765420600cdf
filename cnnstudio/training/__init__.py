"""The training engine. Clients start `python -m cnnstudio.training.worker JOB.json` (see
worker.py and job.py) and read the JSON-lines events documented in events.py.

Modules: events (protocol, pure), job (the job file), process (spawn and control a worker),
console (terminal view), worker (entry point), strategy (tf.distribute), optimizers,
schedules, steps (the custom train step), loop (epochs, resume, stop), checkpoints,
rundir (run directory layout), data_source (batches per epoch), assembly (the model),
failures (error categories), probes (lr range test, dry run).
"""
