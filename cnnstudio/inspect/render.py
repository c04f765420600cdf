"""Pictures of inspection results as uint8 RGB arrays (numpy + Pillow; the GUI and the CLI share them)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from cnnstudio.inspect.results import Embedding, Filters, LayerMaps

PAGE = 64  # channels per page of a large layer
BACKGROUND = (24, 26, 30)
TEXT = (230, 230, 230)
# Distinct class colours (Tableau 10), repeated past ten classes.
PALETTE = [(78, 121, 167), (242, 142, 43), (225, 87, 89), (118, 183, 178), (89, 161, 79),
           (237, 201, 72), (176, 122, 161), (255, 157, 167), (156, 117, 95), (186, 176, 172)]


def pages(channels: int, per_page: int = PAGE) -> int:
    return max(1, math.ceil(channels / per_page))


def normalize_channel(values: np.ndarray) -> np.ndarray:
    """One channel's values -> 0..255 (min-max within the channel; a constant channel is black)."""
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-12:
        return np.zeros(values.shape, np.uint8)
    return ((values - low) / (high - low) * 255).round().astype(np.uint8)


def _tile_size(height: int, width: int, target: int) -> int:
    return max(1, target // max(height, width, 1))


def map_grid(layer: LayerMaps, page: int = 0, per_page: int = PAGE, tile: int = 48) -> np.ndarray:
    """A page of a layer's channels as a grid of grey tiles (uint8 [H,W,3]); dead channels tinted red."""
    maps = layer.maps if layer.maps.ndim == 3 else layer.maps.reshape(1, 1, -1)
    channels = maps.shape[-1]
    first = min(page, pages(channels, per_page) - 1) * per_page
    chosen = list(range(first, min(channels, first + per_page)))
    columns = max(1, math.ceil(math.sqrt(len(chosen))))
    rows = math.ceil(len(chosen) / columns)
    scale = _tile_size(maps.shape[0], maps.shape[1], tile)
    height, width, gap = maps.shape[0] * scale, maps.shape[1] * scale, 2
    out = np.full((rows * (height + gap) + gap, columns * (width + gap) + gap, 3), BACKGROUND, np.uint8)
    for slot, channel in enumerate(chosen):
        grey = normalize_channel(maps[..., channel])
        grey = np.repeat(np.repeat(grey, scale, axis=0), scale, axis=1)
        cell = np.repeat(grey[..., None], 3, axis=-1)
        if layer.channel_dead[channel]:
            cell = cell // 2 + np.array([90, 0, 0], np.uint8)
        top, left = gap + (slot // columns) * (height + gap), gap + (slot % columns) * (width + gap)
        out[top:top + height, left:left + width] = cell
    return out


def filter_grid(filters: Filters, tile: int = 32, max_tiles: int = 256) -> np.ndarray:
    """First-layer kernels as RGB tiles; deeper kernels as one grey tile per (input, output) pair."""
    kernels = filters.kernels
    kh, kw, fan_in, fan_out = kernels.shape
    if filters.rgb:
        tiles = [kernels[..., i] for i in range(fan_out)]
        columns = max(1, math.ceil(math.sqrt(len(tiles))))
    else:
        tiles = [kernels[:, :, c, o][..., None].repeat(3, axis=-1) for o in range(fan_out) for c in range(fan_in)]
        columns = fan_in
        tiles = tiles[:max_tiles - max_tiles % max(columns, 1) or max_tiles]
    scale = _tile_size(kh, kw, tile)
    rows = math.ceil(len(tiles) / columns)
    gap = 2
    out = np.full((rows * (kh * scale + gap) + gap, columns * (kw * scale + gap) + gap, 3), BACKGROUND, np.uint8)
    for slot, kernel in enumerate(tiles):
        low, high = float(kernel.min()), float(kernel.max())
        values = np.zeros(kernel.shape, np.uint8) if high - low < 1e-12 else \
            ((kernel - low) / (high - low) * 255).round().astype(np.uint8)
        values = np.repeat(np.repeat(values, scale, axis=0), scale, axis=1)
        top, left = gap + (slot // columns) * (kh * scale + gap), gap + (slot % columns) * (kw * scale + gap)
        out[top:top + kh * scale, left:left + kw * scale] = values
    return out


def captioned(image: np.ndarray, caption: str) -> np.ndarray:
    """The image with one line of text above it."""
    from PIL import Image, ImageDraw

    band = 18
    canvas = Image.new("RGB", (max(image.shape[1], 8 * len(caption) + 8), image.shape[0] + band), BACKGROUND)
    canvas.paste(Image.fromarray(image), (0, band))
    ImageDraw.Draw(canvas).text((4, 3), caption, fill=TEXT)
    return np.asarray(canvas)


def stack(images: list[np.ndarray], gap: int = 8) -> np.ndarray:
    """Images one below the other, left-aligned."""
    width = max(image.shape[1] for image in images)
    height = sum(image.shape[0] for image in images) + gap * (len(images) - 1)
    out = np.full((height, width, 3), BACKGROUND, np.uint8)
    top = 0
    for image in images:
        out[top:top + image.shape[0], :image.shape[1]] = image
        top += image.shape[0] + gap
    return out


def layers_picture(layers: list[LayerMaps], tile: int = 48) -> np.ndarray:
    """Every layer's first page of channels, captioned with its name, shape and statistics."""
    parts = []
    for layer in layers:
        shape = "x".join(str(d) for d in layer.shape)
        more = f", page 1/{pages(layer.channels)}" if pages(layer.channels) > 1 else ""
        caption = f"{layer.name}  {shape}  mean {layer.mean:.3g}  dead {layer.dead_fraction:.0%}{more}"
        parts.append(captioned(map_grid(layer, tile=tile), caption))
    return stack(parts)


def scatter(embedding: Embedding, size: int = 640) -> np.ndarray:
    """The embedding as a scatter: one colour per true class, mistakes drawn as crosses, a legend."""
    from PIL import Image, ImageDraw

    canvas = Image.new("RGB", (size + 160, size), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    points = np.asarray(embedding.points, dtype=np.float64)
    if len(points):
        low, high = points.min(axis=0), points.max(axis=0)
        span = np.where(high - low > 1e-12, high - low, 1.0)
        xy = (points - low) / span * (size - 40) + 20
        for (x, y), true, wrong in zip(xy, embedding.true, embedding.mistakes, strict=True):
            colour = PALETTE[int(true) % len(PALETTE)]
            y = size - y
            if wrong:
                draw.line((x - 4, y - 4, x + 4, y + 4), fill=colour, width=2)
                draw.line((x - 4, y + 4, x + 4, y - 4), fill=colour, width=2)
            else:
                draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=colour)
    for i, name in enumerate(embedding.class_names):
        draw.ellipse((size + 10, 14 + 18 * i, size + 18, 22 + 18 * i), fill=PALETTE[i % len(PALETTE)])
        draw.text((size + 24, 12 + 18 * i), name[:20], fill=TEXT)
    row = 14 + 18 * len(embedding.class_names) + 6
    draw.text((size + 10, row), f"x = mistake ({int(embedding.mistakes.sum())})", fill=TEXT)
    draw.text((size + 10, row + 18), f"{embedding.method}, {embedding.split}", fill=TEXT)
    return np.asarray(canvas)


def save_png(image: np.ndarray, path: str | Path) -> Path:
    """Write an RGB picture atomically; a folder that cannot be written raises ExportError."""
    import io

    from PIL import Image

    from cnnstudio.errors import ExportError
    from cnnstudio.fileio import write_bytes_atomic

    path = Path(path)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, "PNG")
    try:
        write_bytes_atomic(path, buffer.getvalue())
    except OSError as exc:
        raise ExportError(f"{path}: cannot write the picture ({exc.strerror or exc}).") from None
    return path
