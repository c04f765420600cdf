"""`cnnstudio inspect`, `saliency` and `embed` on every kind of source, and their errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from cnnstudio.cli import main


def _image(run, name="red"):
    return str(sorted((run.parent / "colours" / name).glob("*.png"))[0])


def test_inspect_json_has_every_conv_layer(inspect_run, tmp_path, capsys):
    out = tmp_path / "maps.png"
    assert main(["inspect", str(inspect_run), _image(inspect_run), "-o", str(out), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == ["conv1", "conv2"]
    for row in rows:
        assert set(row) == {"name", "shape", "mean", "dead_fraction"}
        assert row["shape"] == [16, 16, 8] and 0.0 <= row["dead_fraction"] <= 1.0 and row["mean"] >= 0.0
    picture = np.asarray(Image.open(out))
    assert picture.ndim == 3 and picture.shape[0] > 100 and picture.std() > 5


def test_inspect_named_layers_keep_their_order_and_shapes(inspect_run, capsys):
    assert main(["inspect", str(inspect_run), _image(inspect_run), "--layer", "pool", "--layer", "bn1",
                 "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["shape"]) for r in rows] == [("pool", [8]), ("bn1", [16, 16, 8])]


def test_inspect_untrained_project_and_keras_file(inspect_run, tmp_path, capsys):
    project = inspect_run.parent / "tiny.cnnproj"
    assert main(["inspect", str(project), _image(inspect_run), "--json"]) == 0
    untrained = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in untrained] == ["conv1", "conv2"]
    assert main(["inspect", str(inspect_run / "model.keras"), _image(inspect_run), "--json",
                 "--layer", "conv2"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["shape"] == [16, 16, 8]


@pytest.mark.parametrize("command", ["inspect", "saliency"])
def test_bad_layer_image_and_source_exit_2(inspect_run, tmp_path, capsys, command):
    image = _image(inspect_run)
    extra = ["--method", "gradcam"] if command == "saliency" else []
    out = ["-o", str(tmp_path / "x.png")]
    assert main([command, str(inspect_run), image, "--layer", "nope", *extra, *out]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "'nope'" in err and "conv2" in err and "Traceback" not in err
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG no")
    assert main([command, str(inspect_run), str(broken), *extra, *out]) == 2
    assert str(broken) in capsys.readouterr().err
    assert main([command, str(tmp_path / "nowhere"), image, *extra, *out]) == 2
    assert "nowhere" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_saliency_every_method_writes_a_picture(inspect_run, tmp_path, capsys):
    for method in ("gradcam", "occlusion", "smoothgrad", "ig"):
        out = tmp_path / f"{method}.png"
        assert main(["saliency", str(inspect_run), _image(inspect_run), "--method", method, "--class", "green",
                     "-o", str(out), "--json", "--checkpoint", "last"]) == 0
        answer = json.loads(capsys.readouterr().out)
        assert answer["class"] == "green" and answer["method"] == method
        assert np.asarray(Image.open(out)).shape[1] > 3 * 16
    assert main(["saliency", str(inspect_run), _image(inspect_run), "--method", "ig", "--class", "purple",
                 "-o", str(tmp_path / "p.png")]) == 2
    err = capsys.readouterr().err
    assert "purple" in err and "blue, green, red" in err


def test_savedmodel_source_allows_occlusion_only(inspect_run, tmp_path, capsys):
    from cnnstudio.export.exporter import export

    export(inspect_run, "savedmodel", tmp_path / "sm")
    image = _image(inspect_run)
    assert main(["saliency", str(tmp_path / "sm"), image, "--method", "occlusion", "-o", str(tmp_path / "o.png"),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["class"] in {"blue", "green", "red"}
    assert main(["saliency", str(tmp_path / "sm"), image, "--method", "ig", "-o", str(tmp_path / "i.png")]) == 2
    assert "occlusion" in capsys.readouterr().err
    assert main(["inspect", str(tmp_path / "sm"), image, "-o", str(tmp_path / "m.png")]) == 2
    assert "SavedModel" in capsys.readouterr().err


def test_embed_json_rows_and_picture(inspect_run, tmp_path, capsys):
    out = tmp_path / "map.png"
    assert main(["embed", str(inspect_run), "-o", str(out), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    predictions = json.loads((inspect_run / "val_predictions.json").read_text())["predictions"]
    assert sorted(r["image"] for r in rows) == sorted(p["path"] for p in predictions)
    for row in rows:
        assert set(row) == {"image", "true", "predicted", "x", "y"}
        assert row["true"] == row["image"].split("/")[-2]
        assert row["predicted"] in {"blue", "green", "red"}
    assert len({(r["x"], r["y"]) for r in rows}) > 1
    assert np.asarray(Image.open(out)).std() > 5
    assert main(["embed", str(inspect_run), "--split", "test", "--method", "tsne", "--json"]) == 0
    test_rows = json.loads(capsys.readouterr().out)
    assert test_rows and not {r["image"] for r in test_rows} & {r["image"] for r in rows}
    assert main(["embed", str(inspect_run.parent / "tiny.cnnproj"), "--json"]) == 2
    assert "run directory" in capsys.readouterr().err
