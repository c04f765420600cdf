"""Class weights, mixup/CutMix, balanced metrics, one-cycle, conflicts, TTA in the SavedModel."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.errors import TrainingError
from cnnstudio.project import Project
from cnnstudio.training.balanced import balanced_accuracy, macro_f1
from cnnstudio.training.conflicts import setting_conflicts
from cnnstudio.training.schedules import Schedule
from tests.training.fixtures import tiny_graph


def test_class_weights_change_the_loss_as_computed_by_hand():
    import tensorflow as tf

    from cnnstudio.training.steps import make_loss
    from cnnstudio.training.techniques import class_weight_vector

    counts = np.array([6, 3, 1])  # balanced: N / (K · N_c) = 10/18, 10/9, 10/3
    weights = class_weight_vector({"class_weights": "balanced"}, counts, ["a", "b", "c"])
    np.testing.assert_allclose(weights, [10 / 18, 10 / 9, 10 / 3], rtol=1e-6)
    logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3], [-1.0, 0.0, 3.0]], np.float32)
    labels = np.array([0, 1, 2], np.int32)
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    by_hand = -log_softmax[np.arange(3), labels] * weights[labels]
    loss = make_loss(3, True, 0.0, weights)
    ours = loss(tf.constant(labels), tf.constant(labels), tf.constant(1.0), tf.constant(logits)).numpy()
    np.testing.assert_allclose(ours, by_hand, rtol=1e-5)
    # Mixed labels: the target and the weight are both blended by λ.
    partners = np.array([2, 0, 1], np.int32)
    lam = 0.7
    target = lam * np.eye(3)[labels] + (1 - lam) * np.eye(3)[partners]
    mixed_by_hand = -(target * log_softmax).sum(axis=1) * (lam * weights[labels] + (1 - lam) * weights[partners])
    mixed = loss(tf.constant(labels), tf.constant(partners), tf.constant(lam), tf.constant(logits)).numpy()
    np.testing.assert_allclose(mixed, mixed_by_hand, rtol=1e-5)


def test_manual_class_weights_must_match_the_classes():
    from cnnstudio.training.techniques import class_weight_vector

    np.testing.assert_allclose(class_weight_vector({"class_weights": "manual", "manual_class_weights": "1, 4"},
                                                   np.array([5, 5]), ["a", "b"]), [1, 4])
    with pytest.raises(TrainingError, match="has 2 value.*3 classes \\(a, b, c\\)"):
        class_weight_vector({"class_weights": "manual", "manual_class_weights": "1, 4"}, np.array([1, 1, 1]),
                            ["a", "b", "c"])


def test_mixing_is_reproducible_and_labels_follow_the_pixels():
    import tensorflow as tf

    from cnnstudio.training.techniques import Mixing, mix_batch

    images = np.zeros((8, 16, 16, 1), np.uint8)
    labels = np.arange(8, dtype=np.int32)
    images[:] = (labels * 30)[:, None, None, None]  # each image one flat grey: its share is readable
    cutmix = Mixing(cutmix_alpha=1.0, seed=3)
    first = mix_batch(cutmix, tf.constant(images), tf.constant(labels), tf.constant(5, tf.int64), 0)
    again = mix_batch(cutmix, tf.constant(images), tf.constant(labels), tf.constant(5, tf.int64), 0)
    other = mix_batch(cutmix, tf.constant(images), tf.constant(labels), tf.constant(6, tf.int64), 0)
    np.testing.assert_array_equal(first[0].numpy(), again[0].numpy())
    assert not np.array_equal(first[0].numpy(), other[0].numpy()) or first[2].numpy() != other[2].numpy()
    mixed, partners, lam = (x.numpy() for x in first)
    for i in range(8):
        if partners[i] == labels[i]:
            continue
        own_share = np.mean(mixed[i] == images[i])  # CutMix: λ is exactly the unpasted share
        assert own_share == pytest.approx(lam, abs=1e-6)
    mixup = Mixing(mixup_alpha=0.4, seed=3)
    mixed, partners, lam = (x.numpy() for x in mix_batch(mixup, tf.constant(images), tf.constant(labels),
                                                         tf.constant(1, tf.int64), 0))
    expected = np.round(lam * images.astype(np.float32) + (1 - lam) * images[partners].astype(np.float32))
    np.testing.assert_array_equal(mixed, expected.astype(np.uint8))
    off = Mixing(mixup_alpha=0.4, probability=0.0, seed=3)
    mixed, _, lam = (x.numpy() for x in mix_batch(off, tf.constant(images), tf.constant(labels),
                                                 tf.constant(1, tf.int64), 0))
    assert lam == 1.0 and np.array_equal(mixed, images)


def test_balanced_metrics_match_scikit_learn():
    from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score

    rng = np.random.default_rng(0)
    truth = np.r_[np.zeros(90, int), np.ones(10, int), np.full(5, 2)]
    predicted = np.where(rng.random(len(truth)) < 0.7, truth, rng.integers(0, 3, len(truth)))
    matrix = confusion_matrix(truth, predicted, labels=range(4))  # class 3 unused: left out of both
    assert balanced_accuracy(matrix) == pytest.approx(balanced_accuracy_score(truth, predicted))
    assert macro_f1(matrix) == pytest.approx(f1_score(truth, predicted, average="macro"))


def test_one_cycle_warms_up_then_anneals():
    schedule = Schedule("one_cycle", 1.0, steps_per_epoch=10, total_epochs=4, one_cycle_warmup=0.25)
    rates = [schedule(step) for step in range(40)]
    assert rates[0] == pytest.approx(1 / 25)
    assert max(rates) == pytest.approx(1.0) and rates.index(max(rates)) == 10
    assert rates[-1] == pytest.approx(1e-4)
    assert all(a <= b for a, b in zip(rates[:10], rates[1:11], strict=True))
    assert all(a >= b for a, b in zip(rates[10:], rates[11:], strict=False))


def test_conflicting_settings_are_named():
    project = Project(graph=tiny_graph())
    project.training.update(mixup_alpha=0.2, label_smoothing=0.1, ema=True, tta="flip", best_metric="macro_f1")
    codes = {code for code, _ in setting_conflicts(project, workers=2, replicas=2, total_steps=100, val_count=0)}
    assert {"mixup_label_smoothing", "ema_multi_worker", "tta_flip_untrained", "best_metric_no_validation"} <= codes
    clean = Project(graph=tiny_graph())
    assert setting_conflicts(clean, workers=1, replicas=1, total_steps=100, val_count=10) == []


def test_tta_in_the_exported_savedmodel_equals_the_in_app_prediction(tmp_path):
    import keras
    import tensorflow as tf

    from cnnstudio.export.savedmodel import export_savedmodel
    from cnnstudio.training.tta import tta_probabilities, with_tta

    keras.utils.set_random_seed(1)
    inputs = keras.Input((16, 16, 1), dtype="uint8")
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(3, 3, activation="relu")(x)
    x = keras.layers.Flatten()(x)
    serving = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    images = np.random.default_rng(2).integers(0, 256, (5, 16, 16, 1)).astype(np.uint8)
    in_app = tta_probabilities(lambda v: serving(v, training=False), tf.constant(images), "flip_shifts", False)
    plain = serving(images).numpy()
    assert not np.allclose(in_app.numpy(), plain, atol=1e-4)  # the views do change the answer
    out = export_savedmodel(with_tta(serving, "flip_shifts"), ["a", "b", "c"], (16, 16, 1), "stretch",
                            tmp_path / "sm", {"tta": "flip_shifts"})
    loaded = tf.saved_model.load(str(out))
    exported = loaded.signatures["serving_default"](images=tf.constant(images))["probabilities"].numpy()
    np.testing.assert_allclose(exported, in_app.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mixed_precision", [False, True])
def test_staged_rates_freeze_then_slow_the_backbone(mixed_precision):
    import keras

    from cnnstudio.training.optimizers import build_optimizer
    from cnnstudio.training.techniques import stage_rates

    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(3, name="backbone")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, name="classifier")(hidden))
    optimizer = build_optimizer({"optimizer": "sgd", "learning_rate": 0.1, "mixed_precision": mixed_precision})
    optimizer.build(model.trainable_variables)
    factor = stage_rates(optimizer, model, "classifier")
    scale = float(optimizer.dynamic_scale.numpy()) if mixed_precision else 1.0  # the wrapper unscales
    gradients = [np.full(v.shape, scale, np.float32) for v in model.trainable_variables]

    def step() -> list[np.ndarray]:
        before = [np.asarray(v.numpy()) for v in model.trainable_variables]
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return [np.asarray(v.numpy()) - b for v, b in zip(model.trainable_variables, before, strict=True)]

    factor.assign(0.0)
    moved = step()  # [backbone kernel, backbone bias, classifier kernel, classifier bias]
    assert not moved[0].any() and not moved[1].any()
    np.testing.assert_allclose(moved[2], -0.1, rtol=1e-5)
    factor.assign(0.25)
    moved = step()
    np.testing.assert_allclose(moved[0], -0.025, rtol=1e-5)
    np.testing.assert_allclose(moved[3], -0.1, rtol=1e-5)
