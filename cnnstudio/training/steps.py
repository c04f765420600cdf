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
    # (images, labels) -> (float64[3] sums, confusion matrix, labels, predicted class, confidence):
    # one compiled pass gives the metrics and the per-image predictions together
    evaluate: Any
    sums: Any  # tf.Variable float64[3]: running sums of the current epoch


def make_steps(model, optimizer, strategy, num_classes: int, from_logits: bool, label_smoothing: float,
               mixed_precision: bool, jit_compile: bool) -> StepFunctions:
    import tensorflow as tf

    smoothing = float(label_smoothing)

    def per_example_loss(labels, outputs):
        outputs = tf.cast(outputs, tf.float32)
        target = tf.one_hot(labels, num_classes)
        if smoothing:
            target = target * (1.0 - smoothing) + smoothing / num_classes
        return _crossentropy(target, outputs, from_logits)

    def _crossentropy(target, outputs, logits):
        if logits:
            return tf.nn.softmax_cross_entropy_with_logits(target, outputs)
        probs = tf.clip_by_value(outputs, 1e-7, 1.0)
        return -tf.reduce_sum(target * tf.math.log(probs), axis=-1)

    def counts(labels, outputs, losses):
        predicted = tf.cast(tf.argmax(outputs, axis=-1), labels.dtype)
        correct = tf.reduce_sum(tf.cast(tf.equal(predicted, labels), tf.float64))
        count = tf.cast(tf.shape(labels)[0], tf.float64)
        return tf.stack([tf.reduce_sum(tf.cast(losses, tf.float64)), correct, count]), predicted

    trainable = model.trainable_variables

    def replica_train(images, labels):
        with tf.GradientTape() as tape:
            outputs = model(images, training=True)
            losses = per_example_loss(labels, outputs)
            loss = tf.nn.compute_average_loss(losses)
            if model.losses:
                loss += tf.nn.scale_regularization_loss(tf.add_n([tf.cast(x, tf.float32) for x in model.losses]))
            scaled = optimizer.scale_loss(loss) if mixed_precision else loss
        gradients = tape.gradient(scaled, trainable)
        optimizer.apply_gradients(zip(gradients, trainable, strict=True))
        return counts(labels, outputs, losses)[0]

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
        sums.assign_add(total)
        return total

    def replica_eval(images, labels):
        outputs = model(images, training=False)
        losses = per_example_loss(labels, outputs)
        values, predicted = counts(labels, outputs, losses)
        matrix = tf.math.confusion_matrix(labels, predicted, num_classes=num_classes, dtype=tf.float64)
        outputs = tf.cast(outputs, tf.float32)
        probabilities = tf.nn.softmax(outputs, axis=-1) if from_logits else outputs
        confidence = tf.reduce_max(probabilities, axis=-1)
        return values, matrix, tf.cast(labels, tf.int32), tf.cast(predicted, tf.int32), confidence

    def evaluate(images, labels):
        values, matrix, truth, predicted, confidence = strategy.run(replica_eval, args=(images, labels))
        # Replicas hold consecutive slices of the global batch: gathering keeps the input order.
        return (strategy.reduce(tf.distribute.ReduceOp.SUM, values, axis=None),
                strategy.reduce(tf.distribute.ReduceOp.SUM, matrix, axis=None),
                strategy.gather(truth, axis=0), strategy.gather(predicted, axis=0),
                strategy.gather(confidence, axis=0))

    return StepFunctions(
        train=tf.function(train, reduce_retracing=True),
        evaluate=tf.function(evaluate, reduce_retracing=True),
        sums=sums,
    )
