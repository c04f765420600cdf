"""Per-folder scan cache in the user's cache directory (never inside the dataset folder).

One JSON file per scanned folder, keyed by the folder's absolute path; each entry is kept
while the file's size and modification time are unchanged.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cnnstudio.fileio import write_json_atomic
from cnnstudio.paths import cache_dir

CACHE_VERSION = 2


def cache_root() -> Path:
    return cache_dir()


def scan_cache_path(folder: Path) -> Path:
    key = hashlib.sha1(str(folder.resolve()).encode("utf-8")).hexdigest()[:20]
    return cache_root() / "scans" / f"{key}.json"


def load_scan_cache(folder: Path) -> dict[str, Any]:
    """rel path -> entry dict; empty when missing, unreadable, stale format or another folder."""
    path = scan_cache_path(folder)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
        return {}
    if data.get("folder") != str(folder.resolve()) or not isinstance(data.get("entries"), dict):
        return {}
    return data["entries"]


def save_scan_cache(folder: Path, entries: dict[str, Any]) -> None:
    target = scan_cache_path(folder)
    resolved = folder.resolve()
    if resolved == target.parent or resolved in target.parents:
        return  # the cache would land inside the dataset: never write there
    try:
        write_json_atomic(target, {"version": CACHE_VERSION, "folder": str(resolved), "entries": entries})
    except OSError:
        pass  # a cache that cannot be written only costs time on the next scan
