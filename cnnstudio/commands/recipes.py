"""`cnnstudio recipes [--json]`: the named sets of settings `train --recipe` and the GUI apply."""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "recipes",
        help="list the training recipes (named sets of settings)",
        description="List the recipes: quick, small-data, imbalanced, finetune. Apply one to a run with "
        "`cnnstudio train PROJECT --recipe NAME` or in the app's Training section. Each recipe sets only "
        "training, augmentation and preprocessing settings; the settings it changes depend on the project "
        "(e.g. augmentation suited to the input size), so with --project the exact changes are listed.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--project", metavar="PROJECT", help="show the changes each recipe would make to it")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cnnstudio.project import Project, load_project
    from cnnstudio.project.recipes import RECIPES, diff, recipe_changes

    if args.project:
        project = load_project(args.project)
    else:
        from cnnstudio.graph.model import Graph

        graph = Graph(name="example")
        graph.add_layer("Input", name="input", height=64, width=64, channels=3)
        project = Project(graph=graph)
    listing = []
    for recipe in RECIPES.values():
        changes = recipe_changes(recipe.name, project)
        listing.append({
            "name": recipe.name,
            "summary": recipe.summary,
            "settings": {f"{section}.{key}": value for section, key, value in changes},
            "changes": [{"setting": f"{d.section}.{d.key}", "old": d.old, "new": d.new}
                        for d in diff(project, changes)] if args.project else None,
        })
    if args.json:
        print(json.dumps(listing, indent=2))
        return 0
    where = args.project or "a 64x64x3 project with default settings"
    for item in listing:
        print(f"{item['name']:<11} {item['summary']}")
        settings = ", ".join(f"{k}={v}" for k, v in item["settings"].items())
        print(f"{'':<11} sets ({where}): {settings}")
    return 0
