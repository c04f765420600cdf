"""The custom train and evaluation steps, run through strategy.run.

One code path for every strategy: Keras 3's Model.fit does not work under
MultiWorkerMirroredStrategy (keras-team/keras#20585); a step run by strategy.run does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class StepFunctions:
    train: Any  # (iterator, n) -> float64[3] sums of this call: loss·count, correct, count
    # (distributed validation dataset) -> (float64[3] sums, confusion matrix, labels, predicted class,
    # confidence): one compiled pass gives the metrics and the per-image predictions together
    evaluate: Any
    sums: Any  # tf.Variable float64[3]: running sums of the current epoch


def make_loss(num_classes: int, from_logits: bool, label_smoothing: float, class_weights=None):
    """(labels, partner labels, λ, outputs) -> per-example loss: cross-entropy against the mixed,
    smoothed target λ·onehot(labels) + (1−λ)·onehot(partners), times the mixed class weight."""
    import tensorflow as tf

    smoothing = float(label_smoothing)
    weights = None if class_weights is None else tf.constant(class_weights, tf.float32)

    def loss(labels, partners, lam, outputs):
        outputs = tf.cast(outputs, tf.float32)
        target = lam * tf.one_hot(labels, num_classes) + (1.0 - lam) * tf.one_hot(partners, num_classes)
        if smoothing:
            target = target * (1.0 - smoothing) + smoothing / num_classes
        if from_logits:
            losses = tf.nn.softmax_cross_entropy_with_logits(target, outputs)
        else:
            losses = -tf.reduce_sum(target * tf.math.log(tf.clip_by_value(outputs, 1e-7, 1.0)), axis=-1)
        if weights is not None:
            losses *= lam * tf.gather(weights, labels) + (1.0 - lam) * tf.gather(weights, partners)
        return losses

    return loss


def make_steps(model, optimizer, strategy, num_classes: int, from_logits: bool, label_smoothing: float,
               mixed_precision: bool, jit_compile: bool, class_weights=None, mixing=None, ema=None,
               tta: str = "none", gather_outputs: bool = True) -> StepFunctions:
    """`class_weights` (array per class) weight the training loss; `mixing` (techniques.Mixing)
    mixes batches; `ema` (techniques.WeightAverage) is updated after each step; `tta` views
    are averaged at evaluation. Validation loss is always the plain cross-entropy.
    `gather_outputs` False: evaluation returns no per-image columns (several workers: a
    collective gather inside the pass fails once batch shapes change, e.g. the last partial one)."""
    import tensorflow as tf

    from cnnstudio.training.techniques import mix_batch
    from cnnstudio.training.tta import tta_probabilities

    train_loss = make_loss(num_classes, from_logits, label_smoothing, class_weights)
    eval_loss = make_loss(num_classes, from_logits and tta == "none", label_smoothing)
    mixes = mixing is not None and mixing.enabled

    def counts(labels, outputs, losses, partners=None, lam=1.0):
        predicted = tf.cast(tf.argmax(outputs, axis=-1), labels.dtype)
        hits = tf.cast(tf.equal(predicted, labels), tf.float64)
        if partners is not None:  # a mixed image is λ right for its own label, 1−λ for its partner's
            lam = tf.cast(lam, tf.float64)
            hits = lam * hits + (1.0 - lam) * tf.cast(tf.equal(predicted, partners), tf.float64)
        count = tf.cast(tf.shape(labels)[0], tf.float64)
        return tf.stack([tf.reduce_sum(tf.cast(losses, tf.float64)), tf.reduce_sum(hits), count]), predicted

    trainable = model.trainable_variables

    def replica_train(images, labels):
        partners, lam = labels, tf.constant(1.0)
        if mixes:
            replica = tf.distribute.get_replica_context().replica_id_in_sync_group
            images, partners, lam = mix_batch(mixing, images, labels, optimizer.iterations, replica)
        with tf.GradientTape() as tape:
            outputs = model(images, training=True)
            losses = train_loss(labels, partners, lam, outputs)
            loss = tf.nn.compute_average_loss(losses)
            if model.losses:
                loss += tf.nn.scale_regularization_loss(tf.add_n([tf.cast(x, tf.float32) for x in model.losses]))
            scaled = optimizer.scale_loss(loss) if mixed_precision else loss
        gradients = tape.gradient(scaled, trainable)
        optimizer.apply_gradients(zip(gradients, trainable, strict=True))
        return counts(labels, outputs, losses, partners if mixes else None, lam)[0]

    if jit_compile:  # XLA compiles the per-replica math; the iterator stays outside it
        replica_train = tf.function(replica_train, jit_compile=True)

    # Created outside the strategy's scope: a plain local variable read by the loop.
    sums = tf.Variable(tf.zeros(3, tf.float64), trainable=False, name="epoch_sums")

    def train(iterator, n):
        total = tf.zeros(3, tf.float64)
        for _ in tf.range(n):
            images, labels = next(iterator)
            per_replica = strategy.run(replica_train, args=(images, labels))
            total += strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)
            if ema is not None:  # cross-replica: every replica holds the same weights after the step
                ema.update(optimizer.iterations)
        sums.assign_add(total)
        return total

    def replica_eval(images, labels):
        if tta == "none":
            outputs = model(images, training=False)
        else:
            outputs = tta_probabilities(lambda x: model(x, training=False), images, tta, from_logits)
        losses = eval_loss(labels, labels, 1.0, outputs)
        values, predicted = counts(labels, outputs, losses)
        matrix = tf.math.confusion_matrix(labels, predicted, num_classes=num_classes, dtype=tf.float64)
        outputs = tf.cast(outputs, tf.float32)
        probabilities = tf.nn.softmax(outputs, axis=-1) if from_logits and tta == "none" else outputs
        confidence = tf.reduce_max(probabilities, axis=-1)
        return values, matrix, tf.cast(labels, tf.int32), tf.cast(predicted, tf.int32), confidence

    def evaluate(images, labels):
        values, matrix, truth, predicted, confidence = strategy.run(replica_eval, args=(images, labels))
        sums = (strategy.reduce(tf.distribute.ReduceOp.SUM, values, axis=None),
                strategy.reduce(tf.distribute.ReduceOp.SUM, matrix, axis=None))
        if not gather_outputs:
            return (*sums, tf.zeros([0], tf.int32), tf.zeros([0], tf.int32), tf.zeros([0], tf.float32))
        # Replicas hold consecutive slices of the global batch: gathering keeps the input order.
        return (*sums, strategy.gather(truth, axis=0), strategy.gather(predicted, axis=0),
                strategy.gather(confidence, axis=0))

    def evaluate_all(dataset):
        """The whole validation pass in one graph: one trace per run, one call per epoch."""
        totals = tf.zeros(3, tf.float64)
        matrix = tf.zeros((num_classes, num_classes), tf.float64)
        def column(dtype):
            return tf.TensorArray(dtype, size=0, dynamic_size=True, infer_shape=False, element_shape=[None])

        # Separate loop variables (AutoGraph does not carry a Python list of TensorArrays).
        truths, guesses, scores = column(tf.int32), column(tf.int32), column(tf.float32)
        batch = tf.constant(0)
        for images, labels in dataset:
            values, confusion, truth, predicted, confidence = evaluate(images, labels)
            totals += values
            matrix += confusion
            truths, guesses = truths.write(batch, truth), guesses.write(batch, predicted)
            scores = scores.write(batch, confidence)
            batch += 1
        return totals, matrix, truths.concat(), guesses.concat(), scores.concat()

    return StepFunctions(
        train=tf.function(train, reduce_retracing=True),
        evaluate=tf.function(evaluate_all, reduce_retracing=True),
        sums=sums,
    )
