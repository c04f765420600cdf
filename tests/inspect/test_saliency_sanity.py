"""The model-randomisation sanity check (Adebayo et al., 2018) for every saliency method we ship.

A saliency map that barely changes when the top layers' weights are replaced by random ones
does not explain the model. Each method must give (a) the same map twice for the same model
and (b) clearly different maps once the classifier and the last convolution are randomised.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.inspect.probe import open_probe
from cnnstudio.inspect.saliency import METHODS, saliency
from tests.export.helpers import draw

CLASSES = ("blue", "green", "red")
SIMILAR = 0.5  # mean Spearman rank correlation above which a map "did not change"


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    value = spearmanr(a.ravel(), b.ravel()).statistic
    return 0.0 if np.isnan(value) else float(value)


def randomize_top_layers(probe, names=("classifier", "conv2"), seed=0) -> None:
    """Cascading randomisation from the top: the named layers' trainable weights redrawn at their scale."""
    rng = np.random.default_rng(seed)
    touched = 0
    for layer in probe.network.layers:
        if layer.name in names:
            for variable in layer.trainable_weights:
                value = np.asarray(variable.numpy())
                variable.assign(rng.normal(0.0, float(value.std()) or 0.05, value.shape).astype(value.dtype))
                touched += 1
    assert touched >= 2


@pytest.fixture(scope="module")
def probes(inspect_run):
    """The trained model, and a copy whose classifier and last convolution are re-drawn at random."""
    trained, randomized = open_probe(inspect_run, "last"), open_probe(inspect_run, "last")
    randomize_top_layers(randomized)
    return trained, randomized


def similarity_after_randomization(probes, method_map) -> tuple[float, float]:
    """(mean correlation of the same model's maps twice, mean correlation trained vs randomised)."""
    trained, randomized = probes
    rng = np.random.default_rng(3)
    samples = [(draw("colours", name, rng)[0], CLASSES.index(name)) for name in CLASSES]
    same, changed = [], []
    for image, label in samples:
        reference = method_map(trained, image, label)
        same.append(rank_correlation(reference, method_map(trained, image, label)))
        changed.append(rank_correlation(reference, method_map(randomized, image, label)))
    return float(np.mean(same)), float(np.mean(changed))


@pytest.mark.parametrize("method", METHODS)
def test_saliency_changes_when_the_model_is_randomized(probes, method):
    def method_map(probe, image, label):
        result = saliency(probe, image, method, label)
        assert result.heat.shape == image.shape[:2] and result.heat.dtype == np.float32
        assert 0.0 <= result.heat.min() and result.heat.max() <= 1.0
        return result.heat

    same, changed = similarity_after_randomization(probes, method_map)
    assert same > 0.99, f"{method} is not deterministic for one model ({same:.2f})"
    assert changed < SIMILAR, f"{method} barely changed after randomising the top layers ({changed:.2f})"


def test_the_check_rejects_a_map_that_ignores_the_model(probes):
    """The control: an 'explanation' computed from the image alone (its brightness) fails the check."""
    def brightness(_probe, image, _label):
        return image.astype(np.float32).mean(axis=-1) / 255.0

    _same, changed = similarity_after_randomization(probes, brightness)
    assert changed >= SIMILAR
