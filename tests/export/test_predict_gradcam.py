"""`cnnstudio predict` on every kind of model, and Grad-CAM on the trained run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.cli import main
from cnnstudio.errors import ExportError
from cnnstudio.export.exporter import export
from cnnstudio.export.gradcam import explain, grad_cam, overlay
from cnnstudio.export.predict import load_predictor, predict_files
from tests.export.helpers import draw


def _images(trained_run, count=2):
    folder = trained_run.parent / "colours"
    return [str(p) for name in ("blue", "red") for p in sorted((folder / name).glob("*.png"))[:count]]


def test_predict_json_from_run_and_savedmodel_agree(trained_run, tmp_path, capsys):
    images = _images(trained_run)
    assert main(["predict", str(trained_run), *images, "--top-k", "2", "--json"]) == 0
    from_run = json.loads(capsys.readouterr().out)
    assert [r["image"] for r in from_run] == images
    assert all(len(r["top"]) == 2 and r["top"][0]["probability"] >= r["top"][1]["probability"] for r in from_run)
    assert {t["class"] for r in from_run for t in r["top"]} <= {"blue", "green", "red"}
    export(trained_run, "savedmodel", tmp_path / "sm")
    assert main(["predict", str(tmp_path / "sm"), *images, "--top-k", "2", "--json"]) == 0
    from_export = json.loads(capsys.readouterr().out)
    for a, b in zip(from_run, from_export, strict=True):
        assert [t["class"] for t in a["top"]] == [t["class"] for t in b["top"]]
        assert abs(a["top"][0]["probability"] - b["top"][0]["probability"]) < 1e-4
    assert main(["predict", str(trained_run / "model.keras"), images[0]]) == 0
    assert images[0] in capsys.readouterr().out


def test_predict_names_the_unreadable_image(trained_run, tmp_path, capsys):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG not really")
    images = _images(trained_run, 1)
    assert main(["predict", str(trained_run), images[0], str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(bad) in err and "Traceback" not in err
    assert main(["predict", str(trained_run), str(tmp_path / "missing.jpg")]) == 2
    assert "missing.jpg" in capsys.readouterr().err
    predictor = load_predictor(trained_run)
    with pytest.raises(ExportError, match="--top-k"):
        predict_files(predictor, images, top_k=0)


def test_grad_cam_peaks_on_the_object(trained_run):
    from cnnstudio.export.sources import load_source

    model = load_source(trained_run, "last").model
    rng = np.random.default_rng(7)
    hits, tried = 0, 0
    for name in ("red", "green", "blue") * 2:
        image, (top, left, height, width) = draw("colours", name, rng)
        heat, index = grad_cam(model, image, class_index=["blue", "green", "red"].index(name))
        assert heat.shape == (16, 16) and heat.dtype == np.float32
        assert 0.0 <= heat.min() and heat.max() <= 1.0
        if heat.max() == 0:
            continue  # no positive evidence for this class: nothing to locate
        tried += 1
        assert heat.std() > 0.01  # not constant
        inside = heat[top:top + height, left:left + width].mean()
        outside = (heat.sum() - heat[top:top + height, left:left + width].sum()) / (heat.size - height * width)
        hits += inside > outside
    assert tried >= 3 and hits >= tried - 1, (hits, tried)


def test_overlay_and_explain(trained_run):
    from cnnstudio.export.sources import load_source

    model = load_source(trained_run).model
    image, _ = draw("colours", "red", np.random.default_rng(1))
    heat, blended, index = explain(model, image)
    assert blended.shape == (16, 16, 3) and blended.dtype == np.uint8 and 0 <= index < 3
    assert not np.array_equal(blended, image)
    # The GUI explains with the predictor's model (augmentation stripped): same heat map.
    again, _, again_index = explain(load_predictor(trained_run).model, image)
    assert again_index == index and np.allclose(again, heat, atol=1e-5)
    grey = overlay(image[..., :1], np.zeros((16, 16), np.float32))
    assert grey.shape == (16, 16, 3)
    with pytest.raises(ExportError, match="out of range"):
        grad_cam(model, image, class_index=5)
    with pytest.raises(ExportError, match="no spatial layer named"):
        grad_cam(model, image, layer_name="nope")
