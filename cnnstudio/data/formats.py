"""Reading image files with Pillow: what is usable, and how pixels reach the model's channels.

The scanner and the training pipeline both go through `inspect_bytes` / `load_image`, so
they always agree on which files are readable and what their pixels look like.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Formats we train on (Pillow's names). MPO is what many cameras write: a JPEG with extras.
SUPPORTED_FORMATS = {"JPEG", "MPO", "PNG", "BMP", "GIF", "WEBP", "TIFF"}
# Files with these suffixes are candidates; anything else (.txt, .csv, Thumbs.db) is ignored quietly.
IMAGE_SUFFIXES = {
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".dib", ".gif", ".webp", ".tif", ".tiff",
    # Image formats we recognise but do not train on: reported as unsupported, not ignored.
    ".heic", ".heif", ".avif", ".psd", ".ico", ".svg", ".ppm", ".pgm", ".pbm", ".tga", ".jp2",
    ".dng", ".cr2", ".nef", ".raw", ".eps", ".pcx",
}
RESIZE_POLICIES = ("stretch", "center_crop", "pad")
# Pillow's own decompression-bomb threshold: beyond it decoding may exhaust memory.
DEFAULT_MAX_PIXELS = 89_478_485
LARGE_FILE = 16 * 1024 * 1024  # bytes; larger files are read in chunks while scanning


class UnusableImage(Exception):
    """A file that cannot be used; str(exc) is the reason shown to the user."""


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    mode: str  # Pillow mode as stored in the file: L, RGB, RGBA, P, I;16, CMYK...
    format: str
    digest: str  # content hash (exact-duplicate detection)
    native: bool = False  # TensorFlow's decoder gives the same image (see native_decodable)


def is_hidden(name: str) -> bool:
    return name.startswith(".") or name.startswith("._") or name.lower() in {"thumbs.db", "desktop.ini"}


def is_candidate(name: str) -> bool:
    return not is_hidden(name) and os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES


def _truncation_problem(data: bytes, fmt: str) -> bool:
    """Cheap end-of-file marker checks, so truncated files show up without a full decode."""
    tail = data[-64:].rstrip(b"\x00\r\n ")
    if fmt in ("JPEG", "MPO"):
        return b"\xff\xd9" not in data[-1024:]
    if fmt == "PNG":
        return b"IEND" not in data[-64:]
    if fmt == "GIF":
        return not tail.endswith(b";")
    return False


def inspect_bytes(data: bytes, verify: bool = False, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Check one file's content; raise UnusableImage with the reason if it cannot be used."""
    if not data:
        raise UnusableImage("zero bytes (empty file)")
    return _inspect(io.BytesIO(data), data[-1024:], lambda: hashlib.blake2b(data, digest_size=16), verify,
                    max_pixels)


def _inspect(source, tail: bytes, digest, verify: bool, max_pixels: int) -> ImageInfo:
    try:
        image = Image.open(source)
    except Image.DecompressionBombError:
        raise UnusableImage("too large to decode safely (decompression bomb)") from None
    except UnidentifiedImageError:
        raise UnusableImage("not an image (Pillow cannot identify the content)") from None
    except Exception as exc:  # a damaged header raises anything from SyntaxError to struct.error
        raise UnusableImage(f"damaged header ({type(exc).__name__}: {exc})") from None
    with image:
        fmt = image.format or "?"
        if fmt not in SUPPORTED_FORMATS:
            raise UnusableImage(f"unsupported format ({fmt}); convert it to PNG or JPEG")
        width, height = image.size
        if width < 1 or height < 1:
            raise UnusableImage("the image has no pixels")
        if width * height > max_pixels:
            raise UnusableImage(
                f"too large to decode safely ({width}×{height} = {width * height:,} pixels; "
                f"limit {max_pixels:,})"
            )
        if _truncation_problem(tail, fmt):
            # No end marker near the end: truncated, or a camera appended data after the
            # image (some phones do). Only a full decode can tell.
            try:
                image.load()
            except Exception:
                raise UnusableImage("truncated (the file ends before the image does)") from None
        if verify:
            try:
                image.load()
            except Exception as exc:
                raise UnusableImage(f"truncated or corrupt ({exc})") from None
        return ImageInfo(width, height, image.mode, fmt, digest().hexdigest(), native_decodable(image))


def native_decodable(image: Image.Image) -> bool:
    """True for plain 8-bit JPEG/PNG that TensorFlow decodes like Pillow (no alpha, palette, EXIF turn).

    The pipeline decodes these in the tf.data graph (fast); every other file goes through Pillow.
    """
    if image.format == "JPEG" and image.mode in ("L", "RGB"):
        exif = image.getexif() if "exif" in image.info else {}
        return exif.get(0x0112, 1) == 1
    return image.format == "PNG" and image.mode in ("L", "RGB") and "transparency" not in image.info


# Which files TensorFlow decodes like Pillow, filled by scan_folder and read by the pipeline in
# the same process; a file not known is decoded by Pillow: always correct. Per scanned folder
# the sorted hashes of the native files' relative paths (8 bytes per native file, not a dict of
# absolute paths) and, aligned with them, the (height, width) the scan read from their headers
# (8 bytes more; 0 when not given), so the pipeline plans JPEG scales without reading headers
# again; single files given by remember_native take precedence (their size is not known).
_NATIVE: dict[str, bool] = {}
_NATIVE_FOLDERS: dict[str, np.ndarray] = {}
_NATIVE_SIZES: dict[str, np.ndarray] = {}  # per folder: uint32 [n, 2] (height, width), aligned with the hashes


def remember_native(paths: dict[str, bool]) -> None:
    _NATIVE.update({os.path.abspath(path): flag for path, flag in paths.items()})


def remember_native_folder(folder: str | os.PathLike, relative_paths: list[str], native: np.ndarray,
                           heights: np.ndarray | None = None, widths: np.ndarray | None = None) -> None:
    """Record which files of a scanned folder are native (`native` aligned with `relative_paths`),
    with their pixel sizes from the scan's header checks when given (`heights`, `widths`, aligned too)."""
    root = os.path.abspath(folder)
    native = np.asarray(native, bool)
    hashes = np.fromiter(map(hash, relative_paths), np.int64, len(relative_paths))[native]
    order = np.argsort(hashes, kind="stable")
    sizes = np.zeros((len(hashes), 2), np.uint32)
    if heights is not None and widths is not None:
        sizes[:, 0] = np.clip(np.asarray(heights, np.int64)[native], 0, None)
        sizes[:, 1] = np.clip(np.asarray(widths, np.int64)[native], 0, None)
    _NATIVE_FOLDERS[root] = hashes[order]
    _NATIVE_SIZES[root] = sizes[order]
    prefix = root + os.sep
    for path in [path for path in _NATIVE if path.startswith(prefix)]:
        del _NATIVE[path]  # the scan is newer than these


def is_native(path: str) -> bool:
    path = os.path.abspath(path)
    flag = _NATIVE.get(path)
    if flag is not None:
        return flag
    if not _NATIVE_FOLDERS:
        return False
    folder = os.path.dirname(path)
    while True:
        hashes = _NATIVE_FOLDERS.get(folder)
        if hashes is not None:
            key = hash(path[len(folder) + 1:].replace(os.sep, "/"))
            at = int(np.searchsorted(hashes, key))
            return at < len(hashes) and int(hashes[at]) == key
        parent = os.path.dirname(folder)
        if parent == folder:
            return False
        folder = parent


def native_flags(paths: list[str]) -> np.ndarray:
    """is_native for many paths at once (bool array): one hash per path, one sorted lookup per folder."""
    return native_lookup(paths)[0]


def native_lookup(paths: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """native_flags, and each native file's (height, width) as the scan read it (int64 [n, 2];
    0 where not known: not native, given by remember_native, or recorded without sizes)."""
    flags = np.zeros(len(paths), dtype=bool)
    sizes = np.zeros((len(paths), 2), dtype=np.int64)
    if not paths or not (_NATIVE or _NATIVE_FOLDERS):
        return flags, sizes
    absolute = [os.path.abspath(path) for path in paths]
    roots = sorted(_NATIVE_FOLDERS, key=len, reverse=True)  # the innermost scanned folder wins
    prefixes = [(root + os.sep, len(root) + 1, _NATIVE_FOLDERS[root], _NATIVE_SIZES.get(root)) for root in roots]
    keys = np.zeros(len(paths), dtype=np.int64)
    owner = np.full(len(paths), -1, dtype=np.int64)
    for position, path in enumerate(absolute):
        for number, (prefix, start, _hashes, _sizes) in enumerate(prefixes):
            if path.startswith(prefix):
                keys[position] = hash(path[start:].replace(os.sep, "/"))
                owner[position] = number
                break
    for number, (_prefix, _start, hashes, known) in enumerate(prefixes):
        mine = np.flatnonzero(owner == number)
        if len(mine) and len(hashes):
            at = np.minimum(np.searchsorted(hashes, keys[mine]), len(hashes) - 1)
            found = hashes[at] == keys[mine]
            flags[mine] = found
            if known is not None and len(known) == len(hashes):
                sizes[mine[found]] = known[at[found]]
    for position, path in enumerate(absolute) if _NATIVE else ():
        flag = _NATIVE.get(path)
        if flag is not None:
            flags[position] = flag
            sizes[position] = 0  # a file given alone: its size is not known here
    return flags, sizes


_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # frame headers (not DHT, JPG, DAC)


def jpeg_size(path: str, limit: int = 65536) -> tuple[int, int] | None:
    """(height, width) from a JPEG's frame header, reading at most `limit` bytes; None when not found."""
    try:
        handle = os.open(path, os.O_RDONLY)  # raw descriptor: a buffered file object costs more than the parse
    except OSError:
        return None
    try:
        data = os.read(handle, 2048)
        if data[:2] != b"\xff\xd8":
            return None
        position = 2
        while True:
            if position + 9 > len(data):
                more = os.read(handle, max(4096, position + 9 - len(data))) if len(data) < limit else b""
                if not more:
                    return None
                data += more
                continue
            if data[position] != 0xFF:
                return None
            marker = data[position + 1]
            if marker == 0xFF:  # fill byte
                position += 1
            elif marker in _SOF_MARKERS:
                height = (data[position + 5] << 8) | data[position + 6]
                width = (data[position + 7] << 8) | data[position + 8]
                return (height, width) if height and width else None
            elif marker in (0xD9, 0xDA):  # end of image, start of scan: no frame header before
                return None
            else:
                position += 2 + ((data[position + 2] << 8) | data[position + 3])
    except OSError:
        return None
    finally:
        os.close(handle)


def inspect_file(path: str, verify: bool = False, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    try:
        size = os.path.getsize(path)
        if size <= LARGE_FILE:
            with open(path, "rb") as handle:
                return inspect_bytes(handle.read(), verify, max_pixels)
        # Large files are hashed in chunks, so 32 scanning threads never hold 32 of them at once.
        with open(path, "rb") as handle:
            handle.seek(size - 1024)
            tail = handle.read()

        def digest():
            hasher = hashlib.blake2b(digest_size=16)
            with open(path, "rb") as stream:
                for chunk in iter(lambda: stream.read(1 << 20), b""):
                    hasher.update(chunk)
            return hasher

        return _inspect(path, tail, digest, verify, max_pixels)
    except OSError as exc:
        raise UnusableImage(f"cannot be read ({exc.strerror or exc})") from None


def _to_channels(image: Image.Image, channels: int) -> Image.Image:
    """Normalise any stored mode (palette, 16-bit, CMYK, alpha...) to L, RGB or RGBA."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # convert("L") clips 16-bit values at 255: scale the real range down instead.
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or array.max(initial=0) > 255 else 255.0
        if mode == "F" and array.max(initial=0) <= 1.0:
            top = 1.0
        image = Image.fromarray(np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
        mode = "L"
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") and channels != 4:
        # Transparent pixels become black (the same black that the pad policy uses).
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        image = Image.alpha_composite(background, rgba).convert("RGB")
    target = {1: "L", 3: "RGB", 4: "RGBA"}[channels]
    return image if image.mode == target else image.convert(target)


def _resize(image: Image.Image, height: int, width: int, policy: str) -> Image.Image:
    if image.size == (width, height):
        return image
    if policy == "center_crop":
        scale = max(width / image.width, height / image.height)
        crop_w, crop_h = width / scale, height / scale
        left, top = (image.width - crop_w) / 2, (image.height - crop_h) / 2
        return image.resize((width, height), Image.BILINEAR, box=(left, top, left + crop_w, top + crop_h))
    if policy == "pad":
        scale = min(width / image.width, height / image.height)
        new_w = max(1, min(width, round(image.width * scale)))
        new_h = max(1, min(height, round(image.height * scale)))
        canvas = Image.new(image.mode, (width, height))
        canvas.paste(image.resize((new_w, new_h), Image.BILINEAR), ((width - new_w) // 2, (height - new_h) // 2))
        return canvas
    return image.resize((width, height), Image.BILINEAR)


def _check_arguments(shape: tuple[int, int, int] | None, resize: str) -> int:
    if resize not in RESIZE_POLICIES:
        raise ValueError(f"resize must be one of {RESIZE_POLICIES}. Received: resize={resize!r}")
    channels = 3 if shape is None else shape[2]
    if channels not in (1, 3, 4):
        raise ValueError(f"images can have 1, 3 or 4 channels. Received: channels={channels}")
    return channels


def decode(image: Image.Image, shape: tuple[int, int, int] | None, resize: str = "stretch") -> np.ndarray:
    """An opened Pillow image -> uint8 array (H, W, C), orientation applied, resized if shape is given."""
    channels = _check_arguments(shape, resize)
    if image.format in ("JPEG", "MPO") and shape is not None:
        # DCT-domain downscaling: decodes large JPEGs several times faster, never below the target.
        turned = image.getexif().get(0x0112, 1) in (5, 6, 7, 8) if "exif" in image.info else False
        image.draft(image.mode, (shape[0], shape[1]) if turned else (shape[1], shape[0]))
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # the first frame of an animated GIF or a TIFF stack
    image = ImageOps.exif_transpose(image) or image
    image = _to_channels(image, channels)
    if shape is not None:
        image = _resize(image, shape[0], shape[1], resize)
    array = np.asarray(image, dtype=np.uint8)
    return array[..., None] if array.ndim == 2 else array


def load_image(
    path: str,
    shape: tuple[int, int, int] | None = None,
    resize: str = "stretch",
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Decode a file fully to uint8 (H, W, C); raise UnusableImage with the reason if it fails."""
    _check_arguments(shape, resize)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise UnusableImage(f"cannot be read ({exc.strerror or exc})") from None
    if not data:
        raise UnusableImage("zero bytes (empty file)")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in SUPPORTED_FORMATS:
                raise UnusableImage(f"unsupported format ({image.format}); convert it to PNG or JPEG")
            if image.width * image.height > max_pixels:
                raise UnusableImage("too large to decode safely (decompression bomb)")
            return decode(image, shape, resize)
    except UnusableImage:
        raise
    except Image.DecompressionBombError:
        raise UnusableImage("too large to decode safely (decompression bomb)") from None
    except UnidentifiedImageError:
        raise UnusableImage("not an image (Pillow cannot identify the content)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise UnusableImage(f"truncated or corrupt ({exc})") from None

