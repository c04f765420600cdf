"""Sweeps and the run queue: an Optuna study whose trials are ordinary runs.

`create_sweep` checks a project and a search space and writes the sweep folder;
`Scheduler(DIR).run()` runs (or continues) it; `results.trial_rows` reads the outcome.
Pure Python except the scheduler, which starts training workers (it never imports
TensorFlow itself). See docs/experiments.md.
"""
