"""The audit on the command line (canaries, sampled decoding, membership), and the HTML report."""

import json
import shutil
import subprocess

import pytest

from sani.cli import main
from sani.report.html import load_audits, render_html
from sani.spans import data


@pytest.fixture(scope="module")
def audits(memorized, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("audits")
    paths = {}
    for name, show in (("plain", False), ("owner", True)):
        out = tmp / f"{name}.json"
        assert (
            main(
                [
                    "audit",
                    "--model",
                    str(memorized["original"]),
                    "--corpus",
                    str(memorized["train"]),
                    "--holdout",
                    str(memorized["holdout"]),
                    "--out",
                    str(out),
                    "--samples",
                    "2",
                    "--contexts",
                    "full,8",
                    "--el-spans",
                    "10",
                    "--exposure-candidates",
                    "100",
                    "--exposure-spans",
                    "20",
                    "-q",
                ]
                + (
                    [
                        "--show-values",
                        "--no-paired-membership",
                        "--exposure-spans",
                        "0",
                        "--samples",
                        "0",
                        "--contexts",
                        "full",
                        "--no-extraction",
                    ]
                    if show
                    else []
                )  # fmt: skip
            )
            == 0
        )
        paths[name] = out
    return paths


@pytest.mark.model
def test_audit_json_has_every_section_and_no_values(audits, memorized):
    saved = json.loads(audits["plain"].read_text())
    assert {"greedy", "sampled", "greedy_last8", "sampled_last8"} <= set(saved["regurgitation"])
    assert saved["extraction"]["em"] > 0.5 and saved["membership"]["sensitive"]["loss"]["auc"] > 0.9
    assert saved["settings"]["samples"] == 2 and saved["model_fingerprint"] and saved["environment"]["torch"]
    values = {r.value(s) for r in data.read_corpus(memorized["train"]) for s in r.spans}
    text = audits["plain"].read_text()
    assert not [v for v in values if v in text]
    owner = json.loads(audits["owner"].read_text())
    assert all(it["value"] in values for it in owner["items"])  # --show-values: for the data owner only


@pytest.mark.e2e
def test_canaries_command_and_exposure_in_the_audit(memorized, tmp_path, capsys):
    out = tmp_path / "with_canaries.jsonl"
    assert (
        main(
            [
                "canaries",
                "--corpus",
                str(memorized["train"]),
                "--out",
                str(out),
                "--space",
                "digits:3",
                "--repeats",
                "1,2",
                "--per-repeat",
                "1",
            ]
        )
        == 0
    )
    definition = json.loads((tmp_path / "with_canaries.canaries.json").read_text())
    assert (
        len(definition["canaries"]) == 2 and len(data.read_corpus(out)) == len(data.read_corpus(memorized["train"])) + 3
    )
    capsys.readouterr()
    assert (
        main(
            [
                "audit",
                "--model",
                str(memorized["original"]),
                "--corpus",
                str(memorized["train"]),
                "--canaries",
                str(tmp_path / "with_canaries.canaries.json"),
                "--samples",
                "0",
                "--contexts",
                "full",
                "--no-extraction",
                "--exposure-spans",
                "0",
                "--out",
                str(tmp_path / "a.json"),
                "-q",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    exp = json.loads((tmp_path / "a.json").read_text())["exposure"]
    assert exp["method"] == "exact" and len(exp["items"]) == 2 and "canary exposure" in printed
    assert all(c["secret"] not in printed for c in definition["canaries"])
    code = main(
        ["canaries", "--corpus", str(memorized["train"]), "--out", str(tmp_path / "x.jsonl"), "--space", "digits"]
    )
    assert code == 2


@pytest.mark.e2e
def test_html_report_compares_audits_without_values(audits, memorized, sanitized, tmp_path):
    san = sanitized
    out = tmp_path / "report.html"
    assert (
        main(
            ["report", str(audits["owner"]), str(san / "sanitization.json"), "--names", "audit,run", "--out", str(out)]
        )
        == 0
    )
    page = out.read_text()
    assert (
        page.count("<svg") >= 2
        and "<script" not in page
        and "http" not in page.split("</style>")[1].split("sani on")[0]
    )
    for name in ("audit", "run: original", "run: sanitized"):
        assert name in page
    assert "Value exposure" in page and "Membership rule" in page and "paired" in page
    fingerprints = json.loads((san / "sanitization.json").read_text())
    assert fingerprints["output_fingerprint"][:16] in page and fingerprints["input_fingerprint"][:16] in page
    assert "fail</span> " in page and "pass</span> " in page
    values = {r.value(s) for r in data.read_corpus(memorized["train"]) for s in r.spans}
    assert not [v for v in values if v in page]  # even from an audit made with --show-values
    assert len(load_audits([str(san / "sanitization.json")])) == 2
    assert main(["report", str(memorized["train"]), "--out", str(tmp_path / "bad.html")]) == 2


@pytest.mark.e2e
def test_custom_thresholds_change_the_verdict(audits, tmp_path):
    page = render_html(load_audits([str(audits["plain"])]), {"greedy_regurgitation": 1.0})
    row = next(line for line in page.splitlines() if line.startswith("<tr><td>greedy regurgitation"))
    assert "pass</span>" in row
    (tmp_path / "t.yaml").write_text("greedy: 0.5\n")
    assert (
        main(
            [
                "report",
                str(audits["plain"]),
                "--out",
                str(tmp_path / "r.html"),
                "--thresholds",
                str(tmp_path / "t.yaml"),
            ]
        )
        == 2
    )
    # a file written for 0.1.0: membership_auc (a band around 0.5) is read as the rule's margin
    (tmp_path / "old.yaml").write_text("membership_auc: 0.6\n")
    out = tmp_path / "old.html"
    assert main(["report", str(audits["plain"]), "--out", str(out), "--thresholds", str(tmp_path / "old.yaml")]) == 0
    row = next(line for line in out.read_text().splitlines() if line.startswith("<tr><td>membership margin"))
    assert "&plusmn;0.10" in row and "fail</span>" in row  # the memorizing model: AUC 1.0 against 0.5


@pytest.mark.e2e
@pytest.mark.slow
def test_report_renders_in_headless_chromium(audits, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    out = tmp_path / "report.html"
    assert main(["report", str(audits["plain"]), "--out", str(out)]) == 0
    png = tmp_path / "shot.png"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1200,2000",
            f"--screenshot={png}",
            out.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert png.stat().st_size > 20_000  # a blank page is a few kB
