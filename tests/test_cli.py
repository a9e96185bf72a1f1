"""The command line: a real run, and bad input that must end in one clear line, exit 2, nothing written."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import sani
from sani.bench import tiny
from sani.cli import main
from sani.options import VERDICT_EXIT


def run(args, capsys):
    code = main(args)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.mark.e2e
def test_sanitize_on_the_command_line_gates_the_release(memorized, tmp_path, capsys):
    """`sani audit` on the command line: tests/test_report.py and tests/test_attacks.py."""
    out = tmp_path / "clean"
    args = ["sanitize", "--model", str(memorized["original"]), "--corpus", str(memorized["train"]), "--out", str(out),
            "--epochs", "1", "-q"]  # fmt: skip
    code, stdout, _ = run([*args, "--require-pass"], capsys)
    assert code == VERDICT_EXIT  # one epoch hides the values, it does not make them forgotten: written, then exit 3
    assert "all (greedy regurgitation)" in stdout and (out / "sanitization.json").is_file()
    report = json.loads((out / "sanitization.json").read_text())
    assert report["config"]["epochs"] == 1.0 and report["audit_after"]["verdict"]["overall"] != "pass"
    assert f"overall verdict: {report['audit_after']['verdict']['overall']}" in stdout
    assert report["audit_after"]["verdict"]["checks"]["membership_margin"]["verdict"] == "fail"
    assert report["audit_after"]["scope"]["attacks_not_run"]["relearn"] == "not asked"
    code, _, err = run([*args, "--no-audit", "--require-pass", "--overwrite"], capsys)
    assert code == 2 and "--require-pass needs the audit" in err


@pytest.mark.e2e
def test_scored_erase_on_the_command_line(memorized, tmp_path, capsys):
    out = tmp_path / "scored"
    code, _, _ = run(
        [
            "sanitize",
            "--model",
            str(memorized["original"]),
            "--corpus",
            str(memorized["train"]),
            "--out",
            str(out),
            "--strategy",
            "gradient",
            "--scope",
            "network",
            "--fraction",
            "0.1",
            "--epochs",
            "0.5",
            "--no-audit",
            "-q",
        ],
        capsys,
    )
    assert code == 0
    erase = json.loads((out / "sanitization.json").read_text())["erase"]
    assert erase["strategy"] == "gradient" and erase["scope"] == "network"
    assert sum(layer["count"] for layer in erase["layers"]) == round(
        0.1 * 512
    )  # the budget of --layers 1, taken anywhere


@pytest.mark.e2e
def test_console_script_is_installed():
    """The `sani` command the package installs (beside this interpreter), not the module run by hand."""
    script = Path(sys.executable).with_name("sani")
    assert script.is_file(), "the sani console script is not installed (pip install -e .)"
    proc = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == f"sani {sani.__version__}"
    proc = subprocess.run([str(script), "sanitize", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "--forget-weight" in proc.stdout


@pytest.fixture(scope="module")
def mamba_dir(tmp_path_factory, tokenizer):
    """A causal LM with no FFN in sani's table."""
    from transformers import MambaConfig, MambaForCausalLM

    model = MambaForCausalLM(MambaConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, state_size=4))
    return tiny.save(model, tokenizer, tmp_path_factory.mktemp("mamba") / "m")


def bad_inputs(memorized, tmp, mamba):
    m, c = str(memorized["original"]), str(memorized["train"])
    (tmp / "bad.jsonl").write_text('{"text": "ok"}\n{"text": "broken"\n')
    (tmp / "past.jsonl").write_text('{"text": "abc", "spans": [{"start": 0, "end": 40}]}\n')
    (tmp / "overlap.jsonl").write_text(
        '{"text": "abcdefgh", "spans": [{"start": 0, "end": 4}, {"start": 2, "end": 6}]}\n'
    )
    (tmp / "empty.jsonl").write_text("\n")
    (tmp / "nospans.txt").write_text("just text\n")
    (tmp / "terms.txt").write_text("Zyxwvut\n")
    (tmp / "cfg.yaml").write_text("epochs: 1\nlearning_rate: 3\n")
    (tmp / "exists").mkdir()
    return {
        "missing model": (["--model", str(tmp / "nope"), "--corpus", c], "model directory not found"),
        "bad json line": (["--model", m, "--corpus", str(tmp / "bad.jsonl")], "bad.jsonl line 2: not valid JSON"),
        "span past end": (
            ["--model", m, "--corpus", str(tmp / "past.jsonl")],
            "past.jsonl line 1: spans[0] ends at 40",
        ),
        "overlapping spans": (["--model", m, "--corpus", str(tmp / "overlap.jsonl")], "overlap without one containing"),
        "empty corpus": (["--model", m, "--corpus", str(tmp / "empty.jsonl")], "the corpus is empty"),
        "no spans": (["--model", m, "--corpus", str(tmp / "nospans.txt")], "no sensitive spans"),
        "terms match nothing": (
            ["--model", m, "--corpus", c, "--terms", str(tmp / "terms.txt")],
            "none of the 1 terms occurs",
        ),
        "unknown ffn": (["--model", str(mamba), "--corpus", c], "model type 'mamba' has no FFN entry"),
        "too many layers": (["--model", m, "--corpus", c, "--layers", "99"], "layers=99: the model has 4 layers"),
        "fraction": (["--model", m, "--corpus", c, "--fraction", "1.5"], "fraction=1.5: must be between 0 and 1"),
        "yaml key": (
            ["--model", m, "--corpus", c, "--config", str(tmp / "cfg.yaml")],
            "cfg.yaml: unknown option 'learning_rate'",
        ),
        "base without dir": (["--model", m, "--corpus", c, "--reset", "base"], "'base' needs base_model"),
        "out exists": (["--model", m, "--corpus", c, "--out", str(tmp / "exists")], "already exists"),
        "network scope": (["--model", m, "--corpus", c, "--scope", "network"], "'network' needs a scoring strategy"),
        "request unread": (["--model", m, "--corpus", c, "--values", str(tmp / "none.txt")], "none.txt: cannot read"),
        "request streamed": (["--model", m, "--corpus", c, "--record", "1", "--stream"], "not with --stream"),
        "request record": (
            ["--model", m, "--corpus", c, "--record", "9999"],
            "--record 9999: the corpus has records 1 to",
        ),
        "request twice": (
            ["--model", m, "--corpus", c, "--values", str(tmp / "terms.txt"), "--record", "1"],
            "one erasure request at a time",
        ),  # fmt: skip
    }


CASES = [
    "missing model",
    "bad json line",
    "span past end",
    "overlapping spans",
    "empty corpus",
    "no spans",
    "terms match nothing",
    "unknown ffn",
    "too many layers",
    "fraction",
    "yaml key",
    "base without dir",
    "out exists",
    "network scope",
    "request unread",
    "request streamed",
    "request record",
    "request twice",
]


@pytest.mark.e2e
@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_exit_2_and_nothing_written(case, memorized, tmp_path, capsys, mamba_dir):
    args, message = bad_inputs(memorized, tmp_path, mamba_dir)[case]
    if "--out" not in args:
        args = [*args, "--out", str(tmp_path / "out")]
    code, _, err = run(["sanitize", *args, "-q"], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sani: error: ") and message in lines[0], err
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.tmp-*"))


@pytest.mark.unit
def test_demo_with_an_unknown_architecture_is_one_line_and_writes_nothing(tmp_path, capsys):
    code, _, err = run(["demo", "--arch", "foo", "--workdir", str(tmp_path / "demo")], capsys)
    assert code == 2 and err.strip().splitlines() == [
        f"sani: error: --arch 'foo': choose one of {', '.join(tiny.ARCHS)}"
    ]
    assert not (tmp_path / "demo").exists()
