"""The package's shape: imports only run down the pipeline's layers (no cycle), and no function or module
grows past what a reader takes in at once."""

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent / "sani"

# lowest first: a module may import from its own layer or below, never above
LAYERS = [
    ["errors", "privacy", "version", "machine", "tiny", "lookalike", "candidates", "tagger_templates"],
    ["files", "dist", "config", "presets", "batching", "pretrained", "memory", "charts"],
    ["masking", "data", "incontext"],
    ["collators"],
    ["detect", "phones", "tagger", "tagger_data", "kinds", "canaries", "synthetic", "adapters"],
    ["spans", "presidio", "losses", "models", "calibrate"],
    ["sharded", "passes"],
    ["erase", "repair", "trainer", "inputs"],
    ["corpus"],
    ["audit.common", "audit.results", "audit.rule"],
    [
        "audit.gate",
        "audit.regurgitation",
        "audit.fillin",
        "audit.utility",
        "audit.membership",
        "audit.exposure",
        "audit.probe",
        "audit.values",
    ],
    ["audit.extraction", "audit.runner", "audit.attack", "audit.tokscan"],
    ["audit.relearn", "audit.quantize", "audit.generations", "audit.lens", "audit.erasure"],
    ["audit"],  # the package: its __init__ registers every metric
    ["target", "parts", "level", "report", "report_attacks", "report_html", "bench_report", "run"],
    ["pipeline", "api"],
    ["demo", "options"],
    ["bench"],
    ["cli", ""],  # "": the package itself (sani/__init__.py)
]


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every sani module `path` imports, at the top or inside a function."""
    name = _module(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    package = [p for p in package if p]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1] + ([node.module] if node.module else [])
            elif node.module and node.module.split(".")[0] == "sani":
                base = node.module.split(".")[1:]
            else:
                continue
            target = ".".join(base)
            names = [f"{target}.{a.name}".strip(".") for a in node.names]
            found.update(n for n in names if (ROOT / (n.replace(".", "/") + ".py")).is_file()
                         or (ROOT / n.replace(".", "/") / "__init__.py").is_file())  # fmt: skip
            if node.module:
                found.add(target)
        elif isinstance(node, ast.Import):
            found.update(
                a.name.split(".", 1)[1] if "." in a.name else "" for a in node.names if a.name.startswith("sani")
            )
    found.discard(name)
    return found


def _graph() -> dict[str, set[str]]:
    return {_module(p): _imports(p) for p in ROOT.rglob("*.py")}


def test_every_module_has_a_layer_and_imports_only_downwards():
    layer = {m: i for i, names in enumerate(LAYERS) for m in names}
    graph = _graph()
    assert set(graph) - set(layer) == set(), "modules without a layer in LAYERS"
    upward = [(m, d) for m, deps in graph.items() for d in deps if layer[d] > layer[m]]
    assert upward == []


def test_the_import_graph_has_no_cycle():
    graph = _graph()
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for d in sorted(graph[m]):
            assert state.get(d) != 1, f"import cycle: {' -> '.join(path + [m, d])}"
            if d not in state:
                visit(d, path + [m])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])


def test_functions_and_modules_stay_short():
    long_functions, long_modules = [], []
    for path in ROOT.rglob("*.py"):
        text = path.read_text()
        if len(text.splitlines()) > 360:
            long_modules.append(path.name)
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno + 1 > 60:
                long_functions.append(f"{path.name}:{node.name}")  # the HTML page too: its sections are functions
    assert long_functions == [] and long_modules == []


def test_only_the_kinds_branch_on_the_model_kind():
    """Causal vs masked is decided once, by the model-kind object: no other module compares a kind's name
    (the audit registers a metric per kind by name; the config keeps the masked-LM defaults by name)."""
    import re

    compare = re.compile(r"""(==|!=)\s*["'](masked|causal)-lm["']|["'](masked|causal)-lm["']\s*(==|!=)""")
    offenders = [p.name for p in ROOT.rglob("*.py") if p.name != "kinds.py" and compare.search(p.read_text())]
    assert offenders == []
