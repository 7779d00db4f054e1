#!/usr/bin/env python3
"""The import cycles between the doctor's modules, one line per cycle.

Reads src/ (test modules left out), takes every `crate::a::b` and `super::x`
path (use lines and inline paths, `{a, b}` groups expanded) as an edge from
the module it is written in to the deepest module it names, then, in each
folder, joins the edges between its children (a file, or a folder as a whole)
and prints every strongly connected component of more than one child:

    cycle in src: deployment profile

Exit 0 when there is none, 1 otherwise. Run from the repository's root:
`python3 tests/module_cycles.py` (or name another source folder).
"""
import glob
import os
import re
import sys
from collections import defaultdict

ROOT = sys.argv[1] if len(sys.argv) > 1 else "src"
PATH = re.compile(r"\b(crate|super)((?:::\w+)+)(?:::\{([^;]*?)\})?")


def module_of(file):
    parts = os.path.relpath(file, ROOT)[:-3].split("/")
    return tuple(parts[:-1] if parts[-1] in ("mod", "main") else parts)


MODULES = {module_of(f): f for f in glob.glob(f"{ROOT}/**/*.rs", recursive=True)}


def deepest_module(path):
    for n in range(len(path), 0, -1):
        if tuple(path[:n]) in MODULES:
            return tuple(path[:n])
    return None


def source_without_tests(file):
    text = open(file, encoding="utf-8").read()
    cut = text.find("#[cfg(test)]")
    text = text if cut < 0 else text[:cut]
    return re.sub(r"//[^\n]*", "", text)


def edges():
    found = defaultdict(set)
    for module, file in MODULES.items():
        for m in PATH.finditer(source_without_tests(file)):
            base, segments = m.group(1), m.group(2).split("::")[1:]
            parent = list(module[:-1])
            while base == "super" and segments and segments[0] == "super":
                parent, segments = parent[:-1], segments[1:]
            groups = [[]]
            if m.group(3):
                names = [g.strip().split("::")[0] for g in m.group(3).split(",")]
                groups += [[n] for n in names if n and n != "self"]
            for group in groups:
                path = segments + group if base == "crate" else parent + segments + group
                target = deepest_module(path)
                if target and target != module:
                    found[module].add(target)
    return found


def components(nodes, adjacent):
    """Tarjan's strongly connected components of more than one node."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in adjacent.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return found


def cycles():
    all_edges = edges()
    lines = []
    for folder in sorted({m[:-1] for m in MODULES if m}):
        depth = len(folder) + 1
        children = {m[:depth] for m in MODULES if len(m) >= depth and m[: len(folder)] == folder}
        adjacent = defaultdict(set)
        for source, targets in all_edges.items():
            if len(source) < depth or source[: len(folder)] != folder:
                continue
            for target in targets:
                if len(target) >= depth and target[: len(folder)] == folder and target[:depth] != source[:depth]:
                    adjacent[source[:depth]].add(target[:depth])
        for component in components(children, adjacent):
            names = " ".join("/".join(c) for c in component)
            lines.append(f"cycle in {'/'.join(folder) or 'src'}: {names}")
    return sorted(lines)


if __name__ == "__main__":
    found = cycles()
    print("\n".join(found) if found else "no import cycle")
    sys.exit(1 if found else 0)
