"""The training loop: epochs, throttled events, checkpoints, resume, stop, early stopping."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnnstudio.fileio import save_keras_atomic
from cnnstudio.training import checkpoints as ckpt
from cnnstudio.training.balanced import balanced_metrics
from cnnstudio.training.events import EventWriter, Throttle
from cnnstudio.training.failures import NanLossError
from cnnstudio.training.optimizers import build_optimizer, get_learning_rate, set_learning_rate
from cnnstudio.training.rundir import RunDirectory
from cnnstudio.training.schedules import Plateau, Schedule
from cnnstudio.training.steps import make_steps
from cnnstudio.training.strategy import Placement
from cnnstudio.training.techniques import SwappedWeights

STOP_SYNC = 20  # calls between stop votes when training on several workers


@dataclass
class Progress:
    """Everything about the run's position that a checkpoint must carry (JSON)."""

    epochs_done: int = 0  # completed epochs
    step: int = 0  # steps done in the current (unfinished) epoch
    global_step: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)  # metrics.csv, one per epoch
    best_metric: float | None = None
    best_epoch: int | None = None
    since_best: int = 0
    plateau: dict[str, Any] = field(default_factory=dict)
    sums: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])  # partial epoch
    epoch_seconds: float = 0.0  # time spent in the partial epoch

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class StopRequested:
    """A flag set by signal handlers, the STOP file or a step limit."""

    def __init__(self, rundir: RunDirectory | None = None, after_steps: int | None = None):
        self.flag = False
        self.rundir = rundir
        self.after_steps = after_steps
        self.steps = 0

    def set(self, *_: Any) -> None:
        self.flag = True

    def __call__(self) -> bool:
        if self.after_steps is not None and self.steps >= self.after_steps:
            self.flag = True
        if not self.flag and self.rundir is not None and self.rundir.stop_requested():
            self.flag = True
        return self.flag


class Trainer:
    def __init__(self, project, data, placement: Placement, rundir: RunDirectory, events: EventWriter,
                 epochs: int, batch_size: int, stop: StopRequested | None = None):
        self.project = project
        self.training = project.training
        self.data = data
        self.placement = placement
        self.strategy = placement.strategy
        self.rundir = rundir
        self.events = events
        self.epochs = epochs
        self.batch_size = batch_size
        self.stop = stop or StopRequested()
        self.drop_remainder = placement.replicas > 1
        if placement.workers > 1 and hasattr(data, "shard_between"):  # streamed: each worker reads its own files
            data.shard_between(placement.workers, placement.replicas)
        self.steps_per_epoch = data.steps_per_epoch(batch_size, self.drop_remainder)
        if self.steps_per_epoch < 1:
            from cnnstudio.errors import DatasetError

            raise DatasetError(f"{data.train_count} training images make no full batch of {batch_size} on "
                               f"{placement.replicas} replicas; lower the batch size.")
        self.progress = Progress()
        self.schedule = Schedule.from_settings(self.training, self.steps_per_epoch, epochs)
        self.plateau = Plateau(patience=int(self.training.get("plateau_patience", 3)))
        self.steps_per_execution = int(self.training.get("steps_per_execution", 1))
        self.tensorboard: dict[str, Any] = {}
        self.ema = None  # techniques.WeightAverage when training.ema is on
        self.backbone_factor = None  # tf.Variable when fine-tuning is staged

    # ---- set-up -------------------------------------------------------------------------
    def build(self) -> None:
        import keras

        from cnnstudio.training.assembly import assemble

        seed = int(self.training["seed"])
        keras.utils.set_random_seed(seed)
        if self.training.get("mixed_precision"):
            keras.mixed_precision.set_global_policy("mixed_float16")
        jit = bool(self.training.get("xla")) and self.placement.replicas == 1
        # XLA cannot compile the augmentation's image warps: with XLA they run in tf.data instead.
        self.augment_in_pipeline = jit and any(
            v for k, v in self.project.augmentation.items() if k != "probability")
        with self.strategy.scope():
            built = assemble(self.project, self.data.class_names, self.data.image_shape,
                             self.data.statistics, seed, augment=not self.augment_in_pipeline)
            self.model = built.model
            self.from_logits = built.from_logits
            self.optimizer = build_optimizer(self.training)
            self.optimizer.build(self.model.trainable_variables)
            if self.training.get("ema"):
                from cnnstudio.training.techniques import WeightAverage

                self.ema = WeightAverage(self.model, float(self.training["ema_decay"]),
                                         bool(self.training.get("ema_warmup", True)))
        if int(self.training.get("head_epochs") or 0) or float(self.training.get("backbone_lr_factor", 1.0)) != 1.0:
            from cnnstudio.training.assembly import classifier_node
            from cnnstudio.training.techniques import stage_rates

            self.backbone_factor = stage_rates(self.optimizer, self.model, classifier_node(self.project.graph))
        for code, message in built.warnings:
            self.events.emit("warning", code=code, message=message)
        from cnnstudio.training.conflicts import setting_conflicts

        for code, message in setting_conflicts(self.project, self.placement.workers, self.placement.replicas,
                                               self.epochs * self.steps_per_epoch, self.data.val_count):
            self.events.emit("warning", code=code, message=message)
        if self.training.get("xla") and self.placement.replicas > 1:
            self.events.emit("warning", code="xla_off", message="XLA is used on one device only; "
                             "this run has several replicas, so it runs without XLA.")
        from cnnstudio.training.techniques import Mixing, class_weight_vector, train_class_counts

        classes = len(self.data.class_names)
        weights = class_weight_vector(self.training, train_class_counts(self.data, classes), self.data.class_names)
        self.steps = make_steps(self.model, self.optimizer, self.strategy, classes,
                                built.from_logits, self.training.get("label_smoothing", 0.0),
                                bool(self.training.get("mixed_precision")), jit, class_weights=weights,
                                mixing=Mixing.from_settings(self.training), ema=self.ema,
                                tta=str(self.training.get("tta", "none")),
                                gather_outputs=self.placement.workers == 1)  # per-image results: one worker only

    def restore(self, checkpoint: ckpt.Checkpoint) -> None:
        saved_workers = checkpoint.state.get("workers")  # absent in checkpoints from before sharding
        if saved_workers is not None and int(saved_workers) != self.placement.workers:
            raise ckpt.TrainingError(
                f"{checkpoint.path}: this run trained on {saved_workers} worker(s), each reading its own part of "
                f"the data; this resume has {self.placement.workers}. Resume it with the same TF_CONFIG cluster.")
        ckpt.check_compatible(checkpoint, len(self.model.variables), len(self.optimizer.variables),
                              checkpoint.path or self.rundir.checkpoints)
        for variable, value in zip(self.model.variables, checkpoint.model, strict=True):
            variable.assign(value)
        for variable, value in zip(self.optimizer.variables, checkpoint.optimizer, strict=True):
            variable.assign(value)
        if self.ema is not None:
            if not checkpoint.ema:
                raise ckpt.TrainingError(f"{checkpoint.path}: the run was started without weight averaging (EMA); "
                                         "it cannot be resumed with EMA on. Start a new run.")
            self.ema.load(checkpoint.ema)
        self.progress = Progress(**checkpoint.state["progress"])
        if self.progress.plateau:
            self.plateau = Plateau.from_dict(self.progress.plateau)

    def snapshot(self) -> ckpt.Checkpoint:
        self.progress.plateau = self.plateau.to_dict()
        return ckpt.Checkpoint(
            [np.asarray(v.numpy()) for v in self.model.variables],
            [np.asarray(v.numpy()) for v in self.optimizer.variables],
            {"progress": self.progress.to_dict(), "epochs": self.epochs, "batch_size": self.batch_size,
             "workers": self.placement.workers},
            ema=[] if self.ema is None else self.ema.full_list(),
        )

    def evaluation_weights(self) -> list[np.ndarray] | None:
        """The averaged weights when EMA is on (what is evaluated and exported), else None."""
        return None if self.ema is None else self.ema.full_list()

    def save(self, slot: str, kind: str) -> None:
        checkpoint = self.snapshot()  # every worker reads its variables; only the chief writes
        if not self.rundir.writer:
            return
        path = ckpt.save_checkpoint(self.rundir.checkpoints, slot, checkpoint)
        self.events.emit("checkpoint", kind=kind, path=str(path), epoch=self.progress.epochs_done,
                         step=self.progress.step)

    # ---- the loop -----------------------------------------------------------------------
    def run(self) -> str:
        """Train until the asked epochs are done; 'completed' or 'stopped'."""
        self._open_tensorboard()
        from cnnstudio.inspect.histograms import attach  # weights/activations/gradients per epoch

        self.histograms = attach(self)
        if self.ema is not None and self.progress.global_step == 0:
            self.ema.reset()  # start from the weights training starts from (fine-tuning loads them late)
        while self.progress.epochs_done < self.epochs:
            if not self._run_epoch():
                self.save("last", "stop")
                return "stopped"
            if self._early_stop():
                break
        return "completed"

    def _set_rate(self) -> float:
        rate = self.schedule(self.progress.global_step) * self.plateau.multiplier
        if self.backbone_factor is not None:  # classifier alone for head_epochs, then the backbone slower
            head = self.progress.epochs_done < int(self.training.get("head_epochs") or 0)
            factor = 0.0 if head else float(self.training.get("backbone_lr_factor", 1.0))
            if factor != getattr(self, "_factor", None):
                self.backbone_factor.assign(factor)
                self._factor = factor
        if rate != getattr(self, "_rate", None):
            set_learning_rate(self.optimizer, rate)
            self._rate = rate
        return rate

    def train_dataset(self, epoch: int, skip_batches: int = 0):
        """The epoch's batches; augmented here when the model cannot hold the augmentation (XLA)."""
        dataset = self.data.train_dataset(epoch, self.batch_size, int(self.training["seed"]),
                                          skip_batches=skip_batches, drop_remainder=self.drop_remainder)
        if self.augment_in_pipeline:
            import tensorflow as tf

            from cnnstudio.modeling.augmentation import augment_dataset

            seed = int(self.training["seed"]) + 7919 * epoch  # a different draw each epoch, reproducible
            dataset = augment_dataset(dataset, self.project.augmentation, seed).map(
                lambda images, labels: (tf.cast(tf.clip_by_value(tf.round(images), 0, 255), tf.uint8), labels))
        return dataset

    def distributed_train_dataset(self, epoch: int, skip_batches: int = 0):
        """The epoch for the strategy: a worker's own shard when the data is sharded by worker."""
        if getattr(self.data, "shards", None) is not None:
            return self.data.distribute_train(self.strategy, epoch, self.batch_size, int(self.training["seed"]),
                                              skip_batches)
        return self.strategy.experimental_distribute_dataset(self.train_dataset(epoch, skip_batches))

    def _run_epoch(self) -> bool:
        import tensorflow as tf

        progress = self.progress
        epoch = progress.epochs_done
        iterator = iter(self.distributed_train_dataset(epoch, skip_batches=progress.step))
        self.steps.sums.assign(np.asarray(progress.sums, dtype=np.float64))
        throttle = Throttle()
        started = time.monotonic() - progress.epoch_seconds
        mark_time, mark_count = time.monotonic(), progress.sums[2]
        while progress.step < self.steps_per_epoch:
            if self._should_stop():
                progress.sums = [float(x) for x in self.steps.sums.numpy()]
                progress.epoch_seconds = time.monotonic() - started
                return False
            count = min(self.steps_per_execution, self.steps_per_epoch - progress.step)
            rate = self._set_rate()
            try:
                self.steps.train(iterator, tf.constant(count))
            except tf.errors.OutOfRangeError:
                break  # unreadable files made the epoch shorter than planned
            progress.step += count
            progress.global_step += count
            self.stop.steps += count
            if throttle.ready() or progress.step == self.steps_per_epoch:
                sums = self.steps.sums.numpy()
                self._check_finite(sums[0])
                now = time.monotonic()
                speed = (sums[2] - mark_count) / max(now - mark_time, 1e-9)
                mark_time, mark_count = now, sums[2]
                record = {"epoch": epoch + 1, "step": progress.step, "steps": self.steps_per_epoch,
                          "global_step": progress.global_step, "loss": sums[0] / max(sums[2], 1),
                          "accuracy": sums[1] / max(sums[2], 1), "lr": rate, "images_per_second": speed}
                self.events.emit("batch", **record)
                self.rundir.append_batch(record)
        sums = self.steps.sums.numpy()
        self._check_finite(sums[0])
        self._end_epoch(epoch, sums, time.monotonic() - started)
        return True

    def _should_stop(self) -> bool:
        """The stop flag; across workers, agreed by an all-reduce every STOP_SYNC calls.

        A worker that stopped alone would leave the others waiting in the gradient
        all-reduce, so under MultiWorkerMirroredStrategy every worker checks at the same
        calls and they all stop if any of them was asked to.
        """
        if self.placement.workers == 1:
            return self.stop()
        import tensorflow as tf

        self._calls = getattr(self, "_calls", 0) + 1
        if self._calls % STOP_SYNC:
            return False
        local = 1.0 if self.stop() else 0.0
        votes = self.strategy.run(lambda: tf.constant(local))
        return float(self.strategy.reduce(tf.distribute.ReduceOp.SUM, votes, axis=None).numpy()) > 0

    def _check_finite(self, loss_sum: float) -> None:
        if not math.isfinite(float(loss_sum)):
            raise NanLossError(
                f"The loss became {'NaN' if math.isnan(loss_sum) else 'infinite'} in epoch "
                f"{self.progress.epochs_done + 1} (step {self.progress.step}). The last good checkpoint is "
                "kept. Lower the learning rate, turn on gradient clipping, or check the input normalization."
            )

    def evaluate(self) -> tuple[float | None, float | None, np.ndarray | None]:
        """The epoch's one compiled validation pass: loss, accuracy, confusion matrix, and the
        per-image predictions (kept in self.val_outputs for val_predictions.json)."""
        self.val_outputs = None
        if getattr(self.data, "shards", None) is not None:  # each worker evaluates its own shard
            distributed = self.data.distribute_val(self.strategy, self.batch_size)
        else:
            dataset = self.data.val_dataset(self.batch_size)
            distributed = None if dataset is None else self.strategy.experimental_distribute_dataset(dataset)
        if distributed is None:
            return None, None, None
        with SwappedWeights(self.model, self.evaluation_weights()):  # EMA on: the average is evaluated
            totals, matrix, *outputs = self.steps.evaluate(distributed)
        totals, matrix = totals.numpy(), matrix.numpy()
        if self.placement.workers == 1:  # several workers see shards: the file order is theirs
            self.val_outputs = tuple(np.asarray(column) for column in outputs)
        return totals[0] / max(totals[2], 1), totals[1] / max(totals[2], 1), matrix

    def _end_epoch(self, epoch: int, sums: np.ndarray, seconds: float) -> None:
        progress = self.progress
        val_loss, val_accuracy, matrix = self.evaluate()
        row = {"epoch": epoch + 1, "loss": float(sums[0] / max(sums[2], 1)),
               "accuracy": float(sums[1] / max(sums[2], 1)), "val_loss": val_loss,
               "val_accuracy": val_accuracy, "lr": get_learning_rate(self.optimizer), "seconds": round(seconds, 3),
               **balanced_metrics(matrix)}
        metric = self.selection_metric(row)
        best = progress.best_metric is None or metric > progress.best_metric
        if best:
            progress.best_metric, progress.best_epoch, progress.since_best = metric, epoch + 1, 0
        else:
            progress.since_best += 1
        if self.training["schedule"] == "plateau" and self.plateau.update(metric):
            self.events.emit("warning", code="lr_reduced", message=f"The {self.metric_name} has not improved for "
                             f"{self.plateau.patience} epochs: learning rate divided by 10.")
        progress.rows.append(row)
        progress.epochs_done, progress.step, progress.sums, progress.epoch_seconds = epoch + 1, 0, [0.0] * 3, 0.0
        self.save("last", "last")  # before the CSV: the checkpoint carries the rows
        if best:
            self.save("best", "best")
        self.rundir.write_metrics(progress.rows)
        if self.rundir.writer and self.val_outputs is not None:  # per-image results for the confusion matrix
            from cnnstudio.training.val_predictions import write_val_predictions

            write_val_predictions(self.rundir.path, self.data.class_names, getattr(self.data, "val_paths", None),
                                  *self.val_outputs)
        self.rundir.write_run(status="running", epochs=self.epochs, epochs_completed=progress.epochs_done,
                              best_metric=progress.best_metric, best_epoch=progress.best_epoch)
        per_class = None
        if matrix is not None:
            per_class = [float(matrix[i, i] / matrix[i].sum()) if matrix[i].sum() else None
                         for i in range(len(matrix))]
        self._write_tensorboard(row)
        if getattr(self, "histograms", None) is not None:
            self.histograms.record(epoch + 1)
        self.events.emit("epoch", epochs=self.epochs, per_class_accuracy=per_class,
                         confusion_matrix=None if matrix is None else matrix.astype(int).tolist(), best=best,
                         best_metric_name=self.metric_name, **row)

    @property
    def metric_name(self) -> str:
        """What picks the best epoch: the chosen validation metric, or training accuracy without validation."""
        if not self.data.val_count:
            return "training accuracy"
        return {"val_accuracy": "validation accuracy", "balanced_accuracy": "balanced accuracy",
                "macro_f1": "macro-F1"}[self.training.get("best_metric", "val_accuracy")]

    def selection_metric(self, row: dict[str, Any]) -> float:
        if row["val_accuracy"] is None:
            return row["accuracy"]
        key = {"val_accuracy": "val_accuracy", "balanced_accuracy": "val_balanced_accuracy",
               "macro_f1": "val_macro_f1"}[self.training.get("best_metric", "val_accuracy")]
        return row[key] if row[key] is not None else row["val_accuracy"]

    def _early_stop(self) -> bool:
        patience = int(self.training.get("early_stopping") or 0)
        if patience and self.progress.since_best >= patience:
            self.events.emit("warning", code="early_stopping", message=f"No improvement for {patience} epochs: "
                             f"stopping early (best epoch {self.progress.best_epoch}).")
            return True
        return False

    # ---- TensorBoard --------------------------------------------------------------------
    def _open_tensorboard(self) -> None:
        if not self.rundir.writer:
            return
        import tensorflow as tf

        for name in ("train", "validation"):
            self.tensorboard[name] = tf.summary.create_file_writer(str(self.rundir.tensorboard / name))

    def _write_tensorboard(self, row: dict[str, Any]) -> None:
        if not self.tensorboard:
            return
        values = {"train": {k: row[k] for k in ("loss", "accuracy", "lr")}}
        if row["val_loss"] is not None:
            values["validation"] = {"loss": row["val_loss"], "accuracy": row["val_accuracy"]}
        for name, scalars in values.items():
            with self.tensorboard[name].as_default():
                for key, value in scalars.items():
                    _scalar(key, value, row["epoch"])
            self.tensorboard[name].flush()

    def save_model(self) -> str | None:
        if not self.rundir.writer:
            return None
        target = self.rundir.model_file
        with SwappedWeights(self.model, self.evaluation_weights()):  # EMA on: the average is the model
            save_keras_atomic(self.model, target)
        return str(target)


def _scalar(tag: str, value: float, step: int) -> None:
    """A TensorBoard scalar without the tensorboard package (tf.summary.scalar needs it)."""
    import tensorflow as tf
    from tensorflow.core.framework import summary_pb2

    metadata = summary_pb2.SummaryMetadata()
    metadata.plugin_data.plugin_name = "scalars"
    tf.summary.write(tag, tf.constant(float(value), tf.float32), step=step, metadata=metadata)
