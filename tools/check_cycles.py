#!/usr/bin/env python3
"""Checks that no two source files of herald call each other, directly or round a
ring (issue 24: "no import cycles between files"). Reads the object files of a
build (nm): a file depends on another when it uses a symbol the other defines.
Prints each ring with the symbols that close it; exits 1 if there is one.

    tools/check_cycles.py build/asan/obj            (every object file there)
    tools/check_cycles.py build/asan/obj/a.o ...    (these: make passes the current sources')
"""
import collections
import glob
import os
import subprocess
import sys


def main(arguments):
    paths = arguments
    if len(arguments) == 1 and os.path.isdir(arguments[0]):
        paths = glob.glob(os.path.join(arguments[0], "*.o"))
    defined, used = {}, collections.defaultdict(set)
    for path in sorted(paths):
        module = os.path.basename(path)[:-2]
        for line in subprocess.check_output(["nm", path], text=True).splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDBR":
                defined[parts[2]] = module
            elif len(parts) == 2 and parts[0] == "U":
                used[module].add(parts[1])
    if not defined:
        print("check_cycles: no object files in %s" % " ".join(arguments))
        return 1
    edges, why = collections.defaultdict(set), collections.defaultdict(set)
    for module, symbols in used.items():
        for symbol in symbols:
            other = defined.get(symbol)
            if other is not None and other != module:
                edges[module].add(other)
                why[(module, other)].add(symbol)
    # Tarjan's strongly connected components, without recursion.
    index, low, on_stack, stack, rings, counter = {}, {}, set(), [], [], [0]
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                ring = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    ring.append(member)
                    if member == node:
                        break
                if len(ring) > 1:
                    rings.append(sorted(ring))
    for ring in rings:
        print("check_cycles: these files call each other round a ring: %s" % ", ".join(ring))
        for a in ring:
            for b in ring:
                if (a, b) in why:
                    print("  %s.c uses %s.c's %s" % (a, b, ", ".join(sorted(why[(a, b)])[:4])))
    return 1 if rings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["build/asan/obj"]))
