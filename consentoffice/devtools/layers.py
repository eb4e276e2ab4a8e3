"""The project's imports, read with ``ast``: the layering rules, the import cycles and the picture
in docs/architecture.md (``python -m consentoffice.devtools.layers --write`` redraws it).

Every import counts for the layers (one inside a function is still a dependency); only imports
at module level count for cycles, since an import inside a function is how a module that runs a
task or a service on demand avoids importing it at start-up.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("consentoffice", "members", "requests", "bureaus")
DOMAIN = ("members", "requests", "bureaus")
# consentoffice's parts, bottom first; the project package itself (settings, urls, models …) is "consentoffice".
PARTS = ("core", "accounts", "audit", "home", "devtools")
SKIP = ("migrations", "tests", "__pycache__")


@dataclass(frozen=True)
class Edge:
    source: str  # importing module
    target: str  # imported module (or package)
    line: int
    top_level: bool  # at module level, not inside a function or class body's method


def module_files(root: Path = ROOT) -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            rel = path.relative_to(root)
            if any(part in SKIP for part in rel.parts):
                continue
            parts = list(rel.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(tree: ast.AST):
    """(node, top_level) for every import; top level means not inside a function."""

    def walk(node, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, not in_function
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            yield from walk(child, inner)

    yield from walk(tree, False)


def edges(root: Path = ROOT) -> list[Edge]:
    modules = module_files(root)
    found = []
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(), str(path))
        for node, top in _imports(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                if target.split(".")[0] in APPS and target != name:
                    found.append(Edge(name, target, node.lineno, top))
    return found


def part_of(module: str) -> str:
    """consentoffice.core.roles → consentoffice.core; members.services.x → members."""
    pieces = module.split(".")
    if pieces[0] == "consentoffice" and len(pieces) > 1 and pieces[1] in PARTS:
        return f"consentoffice.{pieces[1]}"
    return pieces[0]


# --- The rules ----------------------------------------------------------------------------------

FORBIDDEN: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "consentoffice.core",
        (*DOMAIN, *(f"consentoffice.{p}" for p in PARTS if p != "core")),
        "the core is the bottom layer: it imports no domain app and no other part of consentoffice",
    ),
    ("members", ("requests", "bureaus"), "members is below requests and bureaus"),
    ("bureaus", ("requests",), "the one domain edge runs requests → bureaus"),
)


def _forbidden(edge: Edge) -> str | None:
    source, target = part_of(edge.source), part_of(edge.target)
    for layer, banned, why in FORBIDDEN:
        if source == layer and target in banned:
            return f"{edge.source} imports {edge.target} (line {edge.line}): {why}"
    return None


def cycles(found: list[Edge]) -> list[list[str]]:
    """Import cycles between modules of one app, through module-level imports only."""
    graph: dict[str, set[str]] = {}
    for edge in found:
        if edge.top_level and edge.source.split(".")[0] == edge.target.split(".")[0]:
            graph.setdefault(edge.source, set()).add(edge.target)
    index, low, stack, on_stack, result = {}, {}, [], set(), []

    def strong(node):  # Tarjan
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                strong(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                result.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            strong(node)
    return sorted(result)


def violations(found: list[Edge]) -> list[str]:
    problems = [message for edge in found if (message := _forbidden(edge))]
    problems += [f"import cycle: {' → '.join(group)}" for group in cycles(found)]
    return problems


# --- The picture --------------------------------------------------------------------------------

BEGIN = "<!-- import graph: generated by `python -m consentoffice.devtools.layers --write` -->"
END = "<!-- end of import graph -->"
DOC = ROOT / "docs" / "architecture.md"


def picture(found: list[Edge]) -> str:
    """A Mermaid graph of the imports between the parts (counting every import)."""
    weights: dict[tuple[str, str], int] = {}
    for edge in found:
        pair = (part_of(edge.source), part_of(edge.target))
        if pair[0] != pair[1]:
            weights[pair] = weights.get(pair, 0) + 1
    lines = ["```mermaid", "graph TD"]
    for (source, target), count in sorted(weights.items()):
        lines.append(
            f"  {source.replace('.', '_')}[{source}] -->|{count}| {target.replace('.', '_')}[{target}]"
        )
    lines.append("```")
    return "\n".join(lines)


def document_block(found: list[Edge]) -> str:
    return f"{BEGIN}\n{picture(found)}\n{END}"


def current_block(text: str) -> str:
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[start:end]


def main(argv: list[str]) -> int:
    found = edges()
    if "--write" in argv:
        text = DOC.read_text()
        DOC.write_text(text.replace(current_block(text), document_block(found)))
        return 0
    print(picture(found))
    problems = violations(found)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
