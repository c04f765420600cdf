"""Reading every supported kind of file the same way in the scan and the pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnnstudio.data import formats
from tests.data.helpers import save_image


def test_rgba_is_composited_on_black(tmp_path):
    array = np.zeros((4, 4, 4), dtype=np.uint8)
    array[..., :3] = 200
    array[:2, :, 3] = 255  # top half opaque, bottom half transparent
    Image.fromarray(array, "RGBA").save(tmp_path / "a.png")
    out = formats.load_image(str(tmp_path / "a.png"))
    assert out.shape == (4, 4, 3) and out.dtype == np.uint8
    assert (out[:2] == 200).all() and (out[2:] == 0).all()


def test_sixteen_bit_grayscale_is_scaled_not_clipped(tmp_path):
    array = np.array([[0, 1000], [30000, 65535]], dtype=np.uint16)
    Image.fromarray(array).save(tmp_path / "deep.png")
    out = formats.load_image(str(tmp_path / "deep.png"), (2, 2, 1))
    assert out[..., 0].tolist() == [[0, 4], [117, 255]]


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    save_image(tmp_path / "c.jpg", mode="CMYK")
    assert formats.inspect_file(str(tmp_path / "c.jpg")).mode == "CMYK"
    assert formats.load_image(str(tmp_path / "c.jpg"), (8, 8, 3)).shape == (8, 8, 3)


def test_exif_orientation_is_applied(tmp_path):
    array = np.zeros((10, 20, 3), dtype=np.uint8)  # 20 wide, 10 high
    array[:, :10] = 255  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    Image.fromarray(array).save(tmp_path / "r.jpg", exif=exif, quality=95)
    out = formats.load_image(str(tmp_path / "r.jpg"))
    assert out.shape == (20, 10, 3)  # now portrait
    assert out[:8].mean() > 200 and out[12:].mean() < 50  # the white half is on top


def test_gif_first_frame_and_palette(tmp_path):
    frames = [Image.new("P", (6, 6), color=i) for i in (3, 9)]
    palette = [0, 0, 0] * 256
    palette[9:12], palette[27:30] = [250, 0, 0], [0, 250, 0]
    for frame in frames:
        frame.putpalette(palette)
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    out = formats.load_image(str(tmp_path / "anim.gif"))
    assert out[0, 0].tolist() == [250, 0, 0]


@pytest.mark.parametrize("fmt,ext", [("WEBP", ".webp"), ("TIFF", ".tif"), ("BMP", ".bmp")])
def test_other_formats_load(tmp_path, fmt, ext):
    path = save_image(tmp_path / f"x{ext}", size=(9, 7), fmt=fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    assert formats.inspect_file(str(path)).format == fmt
    assert formats.load_image(str(path), (5, 5, 1)).shape == (5, 5, 1)


def test_unusable_files_have_reasons(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("not really a jpeg")
    good = save_image(tmp_path / "good.jpg", size=(40, 40)).read_bytes()
    (tmp_path / "cut.jpg").write_bytes(good[: len(good) // 2])
    png = save_image(tmp_path / "good.png", size=(40, 40)).read_bytes()
    (tmp_path / "cut.png").write_bytes(png[: len(png) - 30])
    Image.new("RGB", (8, 8)).save(tmp_path / "odd.ppm")
    reasons = {}
    for name in ("empty.png", "text.jpg", "cut.jpg", "cut.png", "odd.ppm"):
        with pytest.raises(formats.UnusableImage) as info:
            formats.inspect_file(str(tmp_path / name))
        reasons[name] = str(info.value)
    assert "zero bytes" in reasons["empty.png"]
    assert "not an image" in reasons["text.jpg"]
    assert "truncated" in reasons["cut.jpg"] and "truncated" in reasons["cut.png"]
    assert "unsupported format (PPM)" in reasons["odd.ppm"]
    with pytest.raises(formats.UnusableImage, match="truncated"):
        formats.load_image(str(tmp_path / "cut.png"))


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    path = save_image(tmp_path / "big.png", size=(300, 200))
    with pytest.raises(formats.UnusableImage, match="too large to decode safely"):
        formats.inspect_file(str(path), max_pixels=10_000)
    with pytest.raises(formats.UnusableImage, match="too large"):
        formats.load_image(str(path), max_pixels=10_000)


def test_resize_policies(tmp_path):
    array = np.full((10, 40, 3), 255, dtype=np.uint8)  # wide white image
    Image.fromarray(array).save(tmp_path / "wide.png")
    path = str(tmp_path / "wide.png")
    stretch = formats.load_image(path, (20, 20, 3), "stretch")
    crop = formats.load_image(path, (20, 20, 3), "center_crop")
    pad = formats.load_image(path, (20, 20, 3), "pad")
    assert stretch.shape == crop.shape == pad.shape == (20, 20, 3)
    assert stretch.min() == 255 and crop.min() == 255
    # Letterboxed: a 20×5 white band in the middle, black above and below.
    assert pad[:7].max() == 0 and pad[-7:].max() == 0 and pad[9:11].min() == 255
    with pytest.raises(ValueError, match="resize"):
        formats.load_image(path, (20, 20, 3), "squash")


def test_center_crop_keeps_the_middle(tmp_path):
    array = np.zeros((10, 30, 3), dtype=np.uint8)
    array[:, 10:20] = 255  # white middle third
    Image.fromarray(array).save(tmp_path / "m.png")
    out = formats.load_image(str(tmp_path / "m.png"), (10, 10, 3), "center_crop")
    assert out.min() == 255


def test_large_files_are_hashed_in_chunks_with_the_same_result(tmp_path, monkeypatch):
    path = save_image(tmp_path / "big.png", size=(64, 64))
    small = formats.inspect_file(str(path))
    monkeypatch.setattr(formats, "LARGE_FILE", 100)
    large = formats.inspect_file(str(path))
    assert large == small
    cut = tmp_path / "cut.png"
    cut.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(formats.UnusableImage, match="truncated"):
        formats.inspect_file(str(cut))


def test_rotated_jpeg_draft_keeps_enough_pixels(tmp_path):
    array = np.zeros((200, 400, 3), dtype=np.uint8)
    array[:, :200] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(array).save(tmp_path / "r.jpg", exif=exif, quality=95)
    out = formats.load_image(str(tmp_path / "r.jpg"), (96, 48, 3))  # portrait target, like the display
    assert out.shape == (96, 48, 3)
    assert out[:40].mean() > 200 and out[56:].mean() < 50


def test_data_appended_after_the_image_is_not_truncation(tmp_path):
    path = save_image(tmp_path / "phone.jpg", size=(32, 32))
    path.write_bytes(path.read_bytes() + b"SEFH" + bytes(4000))  # a camera trailer after EOI
    info = formats.inspect_file(str(path))
    assert info.format == "JPEG"
    assert formats.load_image(str(path), (8, 8, 3)).shape == (8, 8, 3)
