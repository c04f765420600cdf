"""`cnnstudio scan FOLDER [--json] [--verify]`: what an image folder holds and what cannot be used.

Ctrl-C stops the checks: the files checked so far are kept in the scan cache and the next
run checks only the others (exit code 130, no traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy and Pillow load only when a scan runs, not for every command
    from cnnstudio.data.progress import TaskState
    from cnnstudio.data.scan import ScanResult


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "scan",
        help="check an image folder: classes, counts, unusable files, duplicates",
        description="Scan an image folder (one subfolder per class, or train/ val/ test/ each holding "
        "class subfolders). Reports classes and counts, image sizes and modes, every file that "
        "cannot be used with the reason, class imbalance and exact duplicates. Files are only read.",
    )
    parser.add_argument("folder", help="the image folder")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--verify", action="store_true", help="decode every image fully (slower, catches "
                        "corruption inside files); Ctrl-C stops it and the next run resumes where it stopped")
    parser.add_argument("--no-cache", action="store_true", help="ignore and do not update the scan cache")
    parser.set_defaults(func=run)


def _progress_bar(quiet: bool):
    from tqdm import tqdm

    from cnnstudio.data.progress import TaskState

    bar = None if quiet else tqdm(total=0, unit="file", desc="scanning", file=sys.stderr, leave=False)

    def update(state: TaskState) -> None:
        if bar is None:
            return
        if bar.total != state.total:
            bar.total = state.total
        bar.n = state.done
        bar.set_description(state.message or "scanning", refresh=False)
        bar.refresh()

    return bar, TaskState(update, min_interval=0.1)


def _interrupted(state: TaskState, verify: bool, use_cache: bool) -> int:
    what = "verified (full decode)" if verify else "checked"
    kept = ("the next `cnnstudio scan` resumes from there" if use_cache
            else "nothing was kept (--no-cache): the next run starts again")
    print(f"interrupted: {state.done:,} of {state.total:,} files {what}; {kept}.", file=sys.stderr, flush=True)
    return 130


def format_report(result: ScanResult) -> str:
    report = result.to_json()
    lines = [f"Folder: {report['folder']} ({'train/val/test folders' if result.layout == 'split' else 'one folder per class'})"]
    lines.append(f"Usable images: {report['images']} in {len(report['classes'])} classes")
    width = max([len(c["name"]) for c in report["classes"]] + [5])
    for entry in report["classes"]:
        lines.append(f"  {entry['name'].ljust(width)}  {entry['count']:>7}")
    if "subsets" in report:
        lines.append("Subsets: " + ", ".join(f"{k} {v}" for k, v in sorted(report["subsets"].items())))
    if report["sizes"]:
        lines.append("Sizes: " + ", ".join(f"{s['size']} ×{s['count']}" for s in report["sizes"][:5])
                     + (" ..." if len(report["sizes"]) > 5 else ""))
        lines.append("Modes: " + ", ".join(f"{k} ×{v}" for k, v in report["modes"].items())
                     + "; formats: " + ", ".join(f"{k} ×{v}" for k, v in report["formats"].items()))
    if report["unreadable"]:
        lines.append(f"Cannot be used ({len(report['unreadable'])}, skipped; nothing was moved or deleted):")
        lines.extend(f"  {u['path']}: {u['reason']}" for u in report["unreadable"])
    if report["ignored"]:
        lines.append(f"Ignored {report['ignored']} hidden or non-image file(s).")
    for group in report["duplicates"][:10]:
        lines.append("Duplicate: " + " = ".join(group))
    if len(report["duplicates"]) > 10:
        lines.append(f"... and {len(report['duplicates']) - 10} more duplicate groups")
    for warning in report["warnings"]:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import time

    from cnnstudio.data.index import refresh_index
    from cnnstudio.data.progress import TaskCancelled
    from cnnstudio.data.scan import scan_folder

    started = time.perf_counter()
    # The index first (names, classes, sizes: metadata only, seconds for 100k files), then the header checks.
    refresh = refresh_index(args.folder, use_cache=not args.no_cache)
    if not args.json:
        counts = refresh.index.counts()
        next_step = "Decoding every image (Ctrl-C stops; the next run resumes)" if args.verify else "Checking headers"
        since = (f"; {len(refresh.changed):,} new or changed, {refresh.removed:,} gone since the last scan"
                 if refresh.from_cache else "")
        print(f"Indexed {len(refresh.index):,} files in {len(counts)} classes in "
              f"{time.perf_counter() - started:.2f} s{since}. {next_step}...", file=sys.stderr, flush=True)
    bar, state = _progress_bar(args.json)
    try:
        result = scan_folder(args.folder, verify=args.verify, progress=state, use_cache=not args.no_cache,
                             index=refresh.index)
    except (KeyboardInterrupt, TaskCancelled):
        if bar is not None:
            bar.close()
        return _interrupted(state, args.verify, not args.no_cache)
    finally:
        if bar is not None:
            bar.close()
    try:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False) if args.json else format_report(result))
        sys.stdout.flush()
    except BrokenPipeError:  # `cnnstudio scan DIR | head`: the reader left, which is fine
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps Python from failing at exit
    problem = result.problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    return 0
