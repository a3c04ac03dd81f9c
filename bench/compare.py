#!/usr/bin/env python3
"""make bench-compare: the working tree's heraldd against another build's, A B A B.

Usage: compare.py --ref REF [--pairs 3] [--only 3] [--backend sqlite|postgresql]
                  [--smoke] [--out build/bench/compare.md] [--ref-heraldd PATH]

REF (any git ref) is built (release heraldd only) in a temporary worktree, which is
removed again; the working tree's own build/heraldd is B. Then run.py runs the chosen
scenarios with REF's heraldd (A), then with the working tree's (B), PAIRS times in
turn, so that the machine's drift (15-50% between runs here) falls on both alike.
Everything but heraldd (the harness, the receiver, the load generator, PostgreSQL)
is the working tree's, so a figure moves only with heraldd.

--ref-heraldd PATH takes REF's heraldd as built already (make bench-smoke runs the
harness this way, with the tree's own heraldd on both sides).

For each figure it prints both medians, the median of the pairs' ratios (B / A) and
their spread (lowest and highest ratio), and writes the same table to --out. A
ratio is only worth what its spread says: a change is proven when the whole spread
is on one side of 1. Figures that are not numbers (delivered / duplicates) are shown
from the last pair, with a note where any pair's differ between A and B.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build_ref(ref, directory):
    """REF's release heraldd, built in a worktree under DIRECTORY; returns its path."""
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--verify", ref + "^{commit}"],
                            check=True, capture_output=True, text=True).stdout.strip()
    tree = os.path.join(directory, "ref")
    subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", tree, commit],
                   check=True, capture_output=True)
    try:
        subprocess.run(["make", "-C", tree, "-j2", "build/heraldd"], check=True,
                       stdout=subprocess.DEVNULL)
        binary = os.path.join(directory, "heraldd-" + commit[:12])
        shutil.copy2(os.path.join(tree, "build", "heraldd"), binary)
    finally:
        subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", tree],
                       capture_output=True)
    return binary, commit


def read_table(path):
    """The figures of a run.py results file: {(scenario, metric): (value, unit)}."""
    figures = {}
    with open(path) as results:
        for line in results:
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if len(cells) < 4 or cells[0] in ("scenario", "---") or set(cells[0]) <= {"-"}:
                continue
            figures[(cells[0], cells[1])] = (cells[2], cells[3])
    return figures


def number(text):
    try:
        return float(text)
    except ValueError:
        return None


def compare(runs_a, runs_b):
    """Rows (scenario, metric, unit, A, B, ratio, spread) over the pairs' figures."""
    rows = []
    for key in runs_b[0]:
        if not all(key in run for run in runs_a + runs_b):
            continue
        unit = runs_b[0][key][1]
        a = [number(run[key][0]) for run in runs_a]
        b = [number(run[key][0]) for run in runs_b]
        if None in a or None in b:
            same = all(x[key][0] == y[key][0] for x, y in zip(runs_a, runs_b))
            rows.append((key[0], key[1], unit, runs_a[-1][key][0], runs_b[-1][key][0],
                         "" if same else "differs", ""))
            continue
        ratios = [y / x for x, y in zip(a, b) if x]
        ratio = "%.2f" % statistics.median(ratios) if ratios else ""
        spread = "%.2f-%.2f" % (min(ratios), max(ratios)) if ratios else ""
        rows.append((key[0], key[1], unit, "%g" % statistics.median(a),
                     "%g" % statistics.median(b), ratio, spread))
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ref", required=True, help="the build to compare against (A)")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--only", default="3", help="scenarios, as run.py --only")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--smoke", action="store_true", help="tiny runs: the harness only")
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "bench", "compare.md"))
    parser.add_argument("--ref-heraldd", help="REF's heraldd, built already")
    options = parser.parse_args()
    if options.pairs < 1:
        parser.error("--pairs must be at least 1")
    head = os.path.join(ROOT, "build", "heraldd")
    if not os.access(head, os.X_OK):
        parser.error("build/heraldd is missing: make all first")
    directory = tempfile.mkdtemp(prefix="herald-compare-", dir=os.path.join(ROOT, "build"))
    try:
        if options.ref_heraldd:
            ref_binary = os.path.abspath(options.ref_heraldd)
            commit = subprocess.run(["git", "-C", ROOT, "rev-parse", options.ref],
                                    capture_output=True, text=True).stdout.strip() or "?"
        else:
            ref_binary, commit = build_ref(options.ref, directory)
        runs = {"A": [], "B": []}
        for pair in range(1, options.pairs + 1):
            for side, binary in (("A", ref_binary), ("B", head)):
                out = os.path.join(directory, "%s-%d.md" % (side, pair))
                command = [sys.executable, os.path.join(ROOT, "bench", "run.py"),
                           "--heraldd", binary, "--backend", options.backend,
                           "--only", options.only, "--out", out]
                if options.smoke:
                    command.append("--smoke")
                print("bench-compare: pair %d of %d, %s" % (
                    pair, options.pairs, "A (%s)" % options.ref if side == "A" else "B (tree)"),
                    flush=True)
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
                runs[side].append(read_table(out))
        rows = compare(runs["A"], runs["B"])
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    described = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                               capture_output=True, text=True).stdout.strip()
    lines = ["# bench-compare", "",
             "A: `%s` (%s); B: the working tree (%s). %d pairs, A then B, scenarios %s, "
             "backend %s%s. Ratio: the median of B / A over the pairs; spread: the lowest "
             "and highest." % (options.ref, commit[:12], described, options.pairs,
                               options.only, options.backend,
                               ", smoke sizes" if options.smoke else ""),
             "", "| scenario | metric | unit | A | B | B / A | spread |",
             "|---|---|---|---|---|---|---|"]
    lines += ["| %s |" % " | ".join(row) for row in rows]
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(options.out)), exist_ok=True)
    with open(options.out, "w") as out:
        out.write(text)
    print(text, end="")
    print("bench-compare: written to %s" % options.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
