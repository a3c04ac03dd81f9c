#!/usr/bin/env python3
"""Checks src/'s layering (src/README.md): a file includes herald headers only from
its own folder and the folders its folder may include, so no include cycle runs
between folders. Prints each include that breaks the rule; exits 1 if any does."""
import os
import re
import sys

# Folder -> the folders (besides itself) whose headers it may include.
ORDER = ["common", "telemetry", "core", "config", "store", "intake", "cluster", "delivery",
         "alert", "jobs", "api", "copy", "daemon"]
BELOW = {folder: set(ORDER[:i]) for i, folder in enumerate(ORDER)}
BELOW["telemetry"] = {"common"}
BELOW["core"] = {"common"}
BELOW["config"] = {"common", "core", "telemetry"}
BELOW["store"] = {"common", "core"}
BELOW["store/sqlite"] = {"common", "core"}
BELOW["store/pg"] = {"common", "core"}
BELOW["intake"] = {"common", "telemetry", "core", "store"}
BELOW["cluster"] = {"common", "telemetry", "core", "store", "intake"}
BELOW["delivery"] = {"common", "telemetry", "core", "config", "store", "intake", "cluster"}
BELOW["alert"] = {"common", "telemetry", "core", "config", "store", "intake", "cluster"}
BELOW["jobs"] = {"common", "telemetry", "core", "config", "store", "intake", "cluster"}
BELOW["api"] = {"common", "telemetry", "core", "config", "store", "intake", "cluster", "alert"}
BELOW["copy"] = {"common", "telemetry", "core", "config", "store", "store/sqlite", "store/pg", "cluster"}
BELOW["daemon"] = set(BELOW) | {"delivery", "alert", "jobs", "api", "copy"}
BELOW["ctl"] = {"common"}
# The backend table is the one header of the front a backend includes.
BACKEND_TABLE = "store/backend.h"


def main(top):
    src = os.path.join(top, "src")
    where = {}
    for folder, _, files in os.walk(src):
        for name in files:
            if name.endswith(".h"):
                where[name] = os.path.relpath(os.path.join(folder, name), src)
    broken = []
    for folder, _, files in os.walk(src):
        here = os.path.relpath(folder, src)
        for name in files:
            if not name.endswith((".c", ".h")):
                continue
            if here not in BELOW:
                broken.append("src/%s/%s: its folder is not in tools/check_layers.py" % (here, name))
                continue
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    match = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                    if not match or os.path.basename(match.group(1)) not in where:
                        continue
                    header = where[os.path.basename(match.group(1))]
                    there = os.path.dirname(header)
                    if there == here or there in BELOW[here]:
                        continue
                    if header == BACKEND_TABLE and here.startswith("store/"):
                        continue
                    broken.append("src/%s/%s:%d: includes %s (src/%s may include %s)" % (
                        here, name, number, header, here, ", ".join(sorted(BELOW[here]))))
    for line in broken:
        print(line)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
