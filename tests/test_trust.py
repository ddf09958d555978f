"""Numbers a CFO can trust: no network at run time, and the same inputs give the same bytes, with the
price date, input hashes and solver recorded."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from router_opt.bundled import DEFAULT_CATALOG, DEFAULT_POLICY, DEFAULT_WORKLOAD, bundled_path
from router_opt.cli import app
from router_opt.io import load_catalog

ROOT = Path(__file__).parents[1]
EXAMPLES = ROOT / "examples" / "constraints"
runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


# --------------------------------------------------------------------------------------------------
# No network.


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a socket or resolve a name fails the run loudly."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access attempted during a router-opt run")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield attempts
    assert attempts == [], f"router-opt tried to use the network: {attempts}"


def test_optimize_runs_without_network(no_network, tmp_path):
    assert socket.socket.__name__ == socket.create_connection.__name__ == "refuse"  # the guard is in place
    assert "TOTAL" in invoke("optimize").output
    json.loads(invoke("optimize", "-f", "json", "--mode", "blended", "--explain").output)
    invoke("optimize", "-f", "html", "-o", str(tmp_path / "plan.html"), "--frontier")
    invoke("optimize", "-f", "xlsx", "-o", str(tmp_path / "plan.xlsx"))
    invoke("optimize", "-f", "focus", "-o", str(tmp_path / "plan-focus.csv"))
    html = (tmp_path / "plan.html").read_text()
    assert "<svg" in html
    for fetch in (
        'src="http',
        "src='http",
        " src=",
        "<link",
        "@import",
        "url(http",
        "<iframe",
        "fetch(",
        "XMLHttpRequest",
    ):
        assert fetch not in html, fetch  # nothing for a browser to fetch either
    # one inline script (the task table's sort and filter), loading nothing
    assert html.count("<script") == 1 and "<script>" in html and "import(" not in html
    assert (tmp_path / "plan.xlsx").read_bytes()[:2] == b"PK"
    x = ["-c", str(EXAMPLES / "catalog.yaml"), "-w", str(EXAMPLES / "workload.csv")]
    invoke("optimize", *x, "-p", str(EXAMPLES / "vendor-cap.yaml"), "--mode", "single", "--solver", "highspy")
    invoke("optimize", *x, "--solver", "cbc", "-f", "json")


# --------------------------------------------------------------------------------------------------
# Reproducibility.


def test_two_blended_runs_give_identical_json():
    first = invoke("optimize", "-f", "json", "--mode", "blended").output
    assert first == invoke("optimize", "-f", "json", "--mode", "blended").output
    explained = ["optimize", "-f", "json", "--mode", "blended", "--explain", "--frontier"]
    assert invoke(*explained).output == invoke(*explained).output


def test_identical_json_across_processes_and_hash_seeds(tmp_path):
    """Set and dict order of strings changes with PYTHONHASHSEED between processes; the result must not."""
    args = [
        "optimize",
        "-f",
        "json",
        "--explain",
        "-c",
        str(EXAMPLES / "catalog.yaml"),
        "-w",
        str(EXAMPLES / "workload.csv"),
        "-p",
        str(EXAMPLES / "vendor-cap.yaml"),
    ]
    outputs = []
    for seed in ("1", "2"):
        env = os.environ | {"PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", "from router_opt.cli import app; app()", *args],
            check=False,
            capture_output=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr.decode()
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]


def test_json_to_a_file_is_byte_identical_to_stdout(tmp_path):
    target = tmp_path / "plan.json"
    invoke("optimize", "-f", "json", "--mode", "blended", "-o", str(target))
    assert target.read_text() == invoke("optimize", "-f", "json", "--mode", "blended").output


def test_results_record_price_date_input_hashes_and_solver():
    settings = json.loads(invoke("optimize", "-f", "json", "--mode", "blended").output)["settings"]
    catalog_path, workload_path, policy_path = (
        bundled_path(DEFAULT_CATALOG),
        bundled_path(DEFAULT_WORKLOAD),
        bundled_path(DEFAULT_POLICY),
    )
    assert settings["prices_as_of"] == load_catalog(catalog_path).prices_as_of.isoformat()
    assert date.fromisoformat(settings["prices_as_of"]) == date(2025, 12, 31)
    assert settings["input_sha256"] == {
        "catalog": hashlib.sha256(catalog_path.read_bytes()).hexdigest(),
        "workload": hashlib.sha256(workload_path.read_bytes()).hexdigest(),
        "policy": hashlib.sha256(policy_path.read_bytes()).hexdigest(),
    }
    assert settings["solver"].startswith("HiGHS ") and any(c.isdigit() for c in settings["solver"])
    assert settings["mode"] == "blended"
    # Paths are recorded as the README names the bundled files, not where router-opt is installed.
    assert (settings["catalog_path"], settings["workload_path"], settings["policy_path"]) == (
        DEFAULT_CATALOG,
        DEFAULT_WORKLOAD,
        DEFAULT_POLICY,
    )


def test_changing_an_input_byte_changes_its_recorded_hash(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_bytes(bundled_path(DEFAULT_POLICY).read_bytes() + b"\n# a comment changes no figure\n")
    before = json.loads(invoke("optimize", "-f", "json").output)
    after = json.loads(invoke("optimize", "-f", "json", "-p", str(policy)).output)
    assert after["settings"]["input_sha256"]["policy"] == hashlib.sha256(policy.read_bytes()).hexdigest()
    assert after["settings"]["input_sha256"]["policy"] != before["settings"]["input_sha256"]["policy"]
    assert after["totals"] == before["totals"]
