"""The package's shape: imports only run down the pipeline's layers (no cycle), and no function or module
grows past what a reader takes in at once."""

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent / "sani"

# lowest first: a module may import from its own layer or below, never above
LAYERS = [
    ["bench", "erase", "models", "repair", "report", "scale", "spans"],  # the stages' faces
    [
        "errors",
        "privacy",
        "version",
        "machine",
        "bench.tiny",
        "spans.lookalike",
        "spans.candidates",
        "spans.tagger_templates",
    ],
    ["files", "scale.dist", "fields", "config", "models.batching", "bench.pretrained", "scale.memory", "report.charts"],
    ["models.masking", "spans.data", "models.incontext"],
    ["models.collators"],
    [
        "spans.detect",
        "spans.phones",
        "spans.tagger",
        "spans.tagger_data",
        "models.causal",
        "models.masked",
        "models.kinds",
        "repair.objectives",
        "repair.losses",
        "spans.canaries",
        "bench.synthetic",
        "models.adapters",
    ],
    ["spans.finder", "spans.presidio", "models.loading", "repair.calibrate", "presets"],  # presets: the kinds' defaults
    ["scale.sharded", "scale.passes"],
    ["erase.neurons", "repair.training", "repair.trainer", "inputs", "options"],
    ["scale.windows"],
    ["scale.corpus"],
    ["audit.blocks", "audit.attack_blocks", "audit.common", "audit.results", "audit.rule", "audit.scores"],
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
    [
        "repair.target",
        "repair.parts",
        "repair.level",
        "report.text",
        "report.scope",
        "report.attacks",
        "report.html",
        "bench.table",
        "bench.methods",
        "run",
    ],
    ["pipeline", "api"],
    ["bench.demo"],
    ["bench.rows"],
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
    (the tests below catch the other ways of working the kind out again)."""
    import re

    compare = re.compile(r"""(==|!=)\s*["'](masked|causal)-lm["']|["'](masked|causal)-lm["']\s*(==|!=)""")
    offenders = [p.name for p in ROOT.rglob("*.py") if p.name != "kinds.py" and compare.search(p.read_text())]
    assert offenders == []


def _objective_offences(path: Path) -> list[str]:
    """Where `path` compares an objective's name (`cfg.objective == "ascent"`, `objective in CALIBRATED`) or
    keeps a table of objective names (a tuple, list, set or dict keys); config.py's choices excepted."""
    import re

    named = re.compile(r"^(ascent|masked\+[\w+]+)$")  # names no other setting shares ("full", "masked" are)
    tree = ast.parse(path.read_text())
    choices = [
        n
        for a in ast.walk(tree)
        if path.name == "config.py" and isinstance(a, ast.Assign) and "OBJECTIVES" in map(ast.unparse, a.targets)
        for n in ast.walk(a.value)
    ]

    def names(node: ast.AST | None) -> bool:
        return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(named.match(node.value))

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and isinstance(node.ops[0], (ast.Eq, ast.NotEq, ast.In, ast.NotIn)):
            sides = [node.left, *node.comparators]
            if any("objective" in ast.unparse(s) or any(names(n) for n in ast.walk(s)) for s in sides):
                found.append(f"{path.name}:{node.lineno}")
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)) and any(names(e) for e in node.elts):
            found += [] if node in choices else [f"{path.name}:{node.lineno}"]
        elif isinstance(node, ast.Dict) and any(names(k) for k in node.keys):
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_only_the_objectives_name_an_objective():
    """An objective is an object (sani/repair/objectives.py) that the repair asks: no other module compares an
    objective's name or keeps its own table of names (the bench and the presets name one as data)."""
    offenders = [o for p in ROOT.rglob("*.py") if p.name != "objectives.py" for o in _objective_offences(p)]
    assert offenders == []


def _dataclass_fields() -> dict[str, tuple[set[str], bool]]:
    """Each dataclass's own fields (those its class body declares), and whether they carry their help
    (`opt(...)`: settings the command line parses), by `module.Class`."""
    out = {}
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any("dataclass" in ast.unparse(d) for d in node.decorator_list):
                own = [s for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
                flags = any(s.value is not None and ast.unparse(s.value).startswith("opt(") for s in own)
                out[f"{_module(path)}.{node.name}"] = ({s.target.id for s in own}, flags)
    return out


def test_settings_are_declared_once():
    """No two settings dataclasses restate the same fields (a class the command line parses and another the
    API takes, joined by a hand mapping): one class, or one extending the other."""
    fields = _dataclass_fields()
    settings = [c for c, (_, flags) in fields.items() if flags]
    twins = [(a, b) for a in settings for b in fields if a != b and len(fields[a][0] & fields[b][0]) >= 4]
    assert twins == []


def test_the_api_and_the_command_line_pass_settings_not_names():
    """`sanitize` and `audit` take settings (dataclasses, or their fields as keyword arguments), not one
    parameter a flag; the command line hands them the parsed dataclasses' fields, never names one by one."""
    too_many, by_hand = [], []
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and path.name in ("api.py", "pipeline.py") and node.col_offset == 0:
                args = node.args
                if len(args.args) + len(args.kwonlyargs) > 12:
                    too_many.append(f"{path.name}:{node.name}")
            if path.name == "cli.py" and isinstance(node, ast.Call):
                if len([k for k in node.keywords if k.arg]) > 8:
                    by_hand.append(f"cli.py:{node.lineno}")
    assert too_many == [] and by_hand == []


def test_a_default_is_written_in_one_place():
    """The defaults that were restated (the cache key, the prompt contexts, the canary text) appear once."""
    text = "\n".join(p.read_text() for p in ROOT.rglob("*.py"))
    assert text.count('"edges"') == 1
    assert "(None, 32, 8)" not in text and text.count("access code of my account") == 1


# the audit JSON's metric blocks, by key: read through `sani.audit.results.AuditResult` and its typed blocks
AUDIT_KEYS = {"regurgitation", "utility", "extraction", "value_exposure", "paired_membership", "membership",
              "exposure", "tokenizer", "attacks", "relearn", "quantize", "extract", "lens", "erasure", "verdict",
              "scope"}  # fmt: skip
# named like a metric, not an audit: the audit-driven stop's limits and trajectory points
NOT_AUDITS = {"limits", "point"}


def _audit_key_reads(path: Path) -> list[str]:
    """`x["membership"]` or `x.get("verdict")` read (not written) by a metric key, outside the audit package."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            key, on = node.slice, node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            key, on = (node.args or [None])[0], node.func.value
        else:
            continue
        name = on.id if isinstance(on, ast.Name) else on.attr if isinstance(on, ast.Attribute) else None
        if isinstance(key, ast.Constant) and key.value in AUDIT_KEYS and name not in NOT_AUDITS:
            out.append(f"{path.name}:{node.lineno} {key.value}")
    return out


def test_only_the_audit_result_reads_the_audit_json():
    """The report, the benchmark, the gate's callers, the demo and the stop read an audit through
    `AuditResult` and its typed blocks, never by indexing the JSON, and never wrap a summary in a made-up
    audit dict to use it; the model kind is read from one place (`AuditResult.kind`), not guessed from a
    metric's block."""
    outside = [p for p in ROOT.rglob("*.py") if "audit" not in p.relative_to(ROOT).parts[:-1]]
    reads = [r for p in outside for r in _audit_key_reads(p)]
    assert reads == []
    made_up = [p.name for p in ROOT.rglob("*.py") if "AuditResult({" in p.read_text()]
    assert made_up == []
    guessed = [p.name for p in outside if '== "masked tokens"' in p.read_text() or '.get("unit")' in p.read_text()]
    assert guessed == []


def test_one_membership_margin():
    """The gate's membership threshold is the audit's own setting (`AuditConfig.membership_margin`), not a
    second number that can disagree with it."""
    gate = ast.parse((ROOT / "audit" / "gate.py").read_text())
    table = next(n.value for n in gate.body if isinstance(n, ast.Assign) and n.targets[0].id == "THRESHOLDS")
    margin = table.values[[k.value for k in table.keys].index("membership_margin")]
    assert not isinstance(margin, ast.Constant)


def _kind_offenders(pattern: str, allowed: tuple[str, ...] = ("kinds.py",)) -> list[str]:
    """The modules outside `allowed` whose code matches `pattern` (regex)."""
    import re

    found = re.compile(pattern)
    paths = [p for p in ROOT.rglob("*.py") if p.name not in allowed]
    return sorted(str(p.relative_to(ROOT)) for p in paths if found.search(p.read_text()))


def test_callers_pass_the_kind_and_never_build_one():
    """Every caller passes the kind it has (no `kind or of(model)` fallback working it out again), and only
    kinds.py makes the kind objects."""
    assert _kind_offenders(r"kind\s+or\s+(kinds\.)?of\(") == []
    assert _kind_offenders(r"\b(CausalLM|MaskedLM)\(\)") == []


def test_no_table_is_keyed_by_a_kind_name():
    """What differs by kind is an attribute of the kind (audit sizes, candidates, preset defaults...): no
    `{"causal-lm": ...}` table, and the metric registry names kinds through the kind objects."""
    assert _kind_offenders(r"""["'](causal|masked)-lm["']\s*:""") == []
    assert _kind_offenders(r"""kinds\s*=\s*\(\s*["']""") == []


def test_the_kind_is_told_by_one_rule_and_asked_by_what_it_means():
    """One detection rule (`kinds.detect`: head classes, then the model type), no architecture list standing
    in for it outside tiny.py, and `.shift` only where it is the label shift (not "is masked": `kind.masked`)."""
    assert _kind_offenders(r"endswith\(.*(ForMaskedLM|ForCausalLM|LMHeadModel)|MODEL_FOR_(MASKED|CAUSAL)_LM") == []
    assert _kind_offenders(r"\b(MASKED|CAUSAL)_ARCHS\b", ("tiny.py",)) == []
    assert _kind_offenders(r"\.shift\b", ("kinds.py", "trainer.py", "losses.py", "training.py")) == []


def test_the_tree_shows_the_stages():
    """A folder a stage, each `__init__.py` a short face (a docstring; the audit's also registers its metrics);
    what stays beside them is the settings, the inputs and the entry points."""
    stages = {"spans", "models", "erase", "repair", "audit", "report", "scale"}
    folders = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert stages <= folders
    for folder in folders:
        face = (ROOT / folder / "__init__.py").read_text()
        assert ast.get_docstring(ast.parse(face)) and len(face.splitlines()) <= 30, folder
    flat = [p.name for p in ROOT.glob("*.py")]
    assert len(flat) <= 16, flat


def test_formatting_is_skipped_only_on_named_tables():
    """The size limits hold on the code as `ruff format` writes it: `# fmt: skip` only ends a module-level
    table with an UPPER_CASE name."""
    offenders = []
    for path in ROOT.rglob("*.py"):
        text = path.read_text()
        tables = set()
        for node in ast.parse(text).body:
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and all(
                isinstance(t, ast.Name) and t.id.lstrip("_").isupper() for t in targets
            ):
                tables.add(node.end_lineno)
        for i, line in enumerate(text.splitlines(), 1):
            if line.rstrip().endswith("# fmt: skip") and i not in tables:
                offenders.append(f"{path.name}:{i}")
    assert offenders == []


def test_no_dead_names_and_task_means_the_model_kind():
    """Every module-level constant and plain function is used somewhere besides its definition (registered
    metrics are used through the registry), and "task" names only the model's kind (the JSON key and the
    `--task` flag): the probe's rows are the probe's."""
    import re

    texts = {p: p.read_text() for p in ROOT.rglob("*.py")}
    tests = [*ROOT.parent.glob("tests/*.py"), *ROOT.parent.glob("benchmarks/*.py")]
    everything = "\n".join([*texts.values(), *(p.read_text() for p in tests)])
    dead = []
    for path, text in texts.items():
        for node in ast.parse(text).body:
            names = []
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name) and t.id.lstrip("_").isupper()]
            elif isinstance(node, ast.FunctionDef) and not node.decorator_list:
                names = [node.name]
            dead += [f"{path.name}:{n}" for n in names if len(re.findall(rf"\b{n}\b", everything)) < 2]
    assert dead == []
    assert not re.search(r"\btask_rows\b|\bread_task\b|ctx\.task\b", "\n".join(texts.values()))
