"""Every output of every command is byte-identical on rerun (issue 15): two separate processes, with
different hash seeds and at least a second apart (the clock's resolution in a workbook's
docProps/core.xml), write every format of every command that writes one; the files must be equal.

`python -m tests.test_outputs_hostile_rerun DIR` writes one round into DIR."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from router_opt.report.registry import ANALYSIS_FORMATS, PLAN_FORMATS, PRICE_CHECK_FORMATS, SECTION_FORMATS
from tests.test_importers import QUALITY

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
ANALYSES = ("frontier", "frontier-budget", "reasoning", "trajectory", "breakeven", "training-cost")
LOG = (
    "timestamp,department,role,user,task_type,model,input_tokens,output_tokens\n"
    + "".join(
        f"2025-03-0{1 + i % 5}T10:00:00Z,{dep},{role},u{i % 7},{task},{model},{100 + i},{20 + i % 9}\n"
        for i, (dep, role, task, model) in enumerate(
            [("Support", "Agent", "classification", "gpt-4o"), ("Support", "Agent", "faq", "gpt-4o-mini")] * 20
            + [("Engineering", "Developer", "code_generation", "claude-sonnet-4-5")] * 15
        )
    )
    + "2025-03-02T10:00:00Z,Support,Agent,u1,faq,gpt-4o,nan,20\n"
)
EVALS = "task_type,model-a,model-b\n" + "".join(
    f"{t},{(i * 7) % 3 != 0:d},{(i * 5) % 4 == 0:d}\n" for i, t in enumerate(["faq", "classification"] * 30)
)


def commands(out: Path, inputs: Path) -> dict[str, list[str]]:
    """Output file name -> the command's arguments (writing to it with -o)."""
    runs: dict[str, list[str]] = {}
    for fmt in PLAN_FORMATS:
        runs[f"optimize.{fmt}"] = ["optimize", "--explain", "-f", fmt]
        runs[f"optimize-blended.{fmt}"] = ["optimize", "--mode", "blended", "--frontier", "-f", fmt]
    for fmt in ("litellm", "json"):
        runs[f"export-policy.{fmt}"] = ["export-policy", "-f", fmt]
        runs[f"export-policy-plan.{fmt}"] = ["export-policy", "--plan", str(inputs / "plan.json"), "-f", fmt]
    for fmt in SECTION_FORMATS:
        runs[f"diff.{fmt}"] = ["diff", str(inputs / "plan.json"), str(inputs / "blended.json"), "-f", fmt]
    for command in ANALYSES:
        for fmt in ANALYSIS_FORMATS:
            runs[f"{command}.{fmt}"] = [command, "-f", fmt]
    runs["from-logs.csv"] = ["workload", "from-logs", str(inputs / "log.csv")]
    runs["catalog-import.yaml"] = [
        "catalog", "import", "--from", "litellm", str(DATA / "litellm-prices.json"),
        "--quality", str(inputs / "quality.yaml"), "--as-of", "2025-06-01",
    ]  # fmt: skip
    for fmt in PRICE_CHECK_FORMATS:
        runs[f"catalog-check.{fmt}"] = [
            "catalog", "check", str(DATA / "litellm-prices.json"), str(ROOT / "catalogs" / "seven-tiers-2025.yaml"),
            "--as-of", "2025-06-01", "-f", fmt,
        ]  # fmt: skip
    runs["quality-import.yaml"] = ["quality", "import", "--evals", str(inputs / "evals.csv")]
    return {name: [*args, "-o", str(out / name)] for name, args in runs.items()}


def write_inputs(inputs: Path) -> None:
    from typer.testing import CliRunner

    from router_opt.cli import app

    inputs.mkdir(parents=True, exist_ok=True)
    (inputs / "log.csv").write_text(LOG)
    (inputs / "quality.yaml").write_text(QUALITY)
    (inputs / "evals.csv").write_text(EVALS)
    runner = CliRunner()
    for name, extra in (("plan.json", []), ("blended.json", ["--mode", "blended"])):
        result = runner.invoke(app, ["optimize", "--explain", "-f", "json", *extra, "-o", str(inputs / name)])
        assert result.exit_code == 0, result.output


def one_round(out: Path, inputs: Path) -> None:
    """Every command once, in this process; a failure exits 3 naming the command."""
    from typer.testing import CliRunner

    from router_opt.cli import app

    out.mkdir(parents=True, exist_ok=True)
    runner = CliRunner()
    for name, args in commands(out, inputs).items():
        result = runner.invoke(app, args)
        if result.exit_code != 0:
            print(f"{name}: exit {result.exit_code}: {result.output[-2000:]}", file=sys.stderr)
            raise SystemExit(3)


def test_every_output_is_byte_identical_on_rerun(tmp_path):
    inputs = tmp_path / "inputs"
    write_inputs(inputs)
    rounds = []
    for seed in ("1", "2"):
        out = tmp_path / f"round{seed}"
        started = time.time()
        process = subprocess.run(
            [sys.executable, "-m", "tests.test_outputs_hostile_rerun", str(out), str(inputs)],
            cwd=ROOT,
            env=os.environ | {"PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=False,
        )
        assert process.returncode == 0, process.stderr[-3000:]
        rounds.append(out)
        time.sleep(max(0.0, 1.1 - (time.time() - started)))  # the second round a clock second later
    names = sorted(commands(rounds[0], inputs))
    assert sorted(p.name for p in rounds[0].iterdir()) == names  # every output written, no temp file left
    assert len(names) >= 45
    differ = [n for n in names if (rounds[0] / n).read_bytes() != (rounds[1] / n).read_bytes()]
    assert not differ, f"differ between runs: {differ}"
    for name in names:
        assert (rounds[0] / name).stat().st_size > 0, name


if __name__ == "__main__":
    one_round(Path(sys.argv[1]), Path(sys.argv[2]))
