"""Today's spend from a generated log of two million requests: `workload from-logs --current-routing`
then `optimize --actual`, per department against the log's tokens priced request by request in
DuckDB's SQL (a different path: no means, no shares)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from router_opt.cli import app

runner = CliRunner()
ROWS = 2_000_000
DAYS = 10
TYPES = ["classification", "faq", "summarization", "extraction"]
PRICES = {"large": (3.0, 15.0), "mid": (0.8, 4.0), "small": (0.15, 0.6)}


def test_actual_per_department_matches_the_logs_spend(tmp_path):
    import duckdb

    log = tmp_path / "log.parquet"
    con = duckdb.connect()
    models = ", ".join(f"'{m}'" for m in PRICES)
    types = ", ".join(f"'{t}'" for t in TYPES)
    con.execute(
        f"""
        COPY (
          SELECT
            strftime(DATE '2025-03-03' + CAST(i % {DAYS} AS INTEGER), '%Y-%m-%d') || 'T10:00:00Z' AS timestamp,
            'D' || (i % 5) AS department,
            'D' || (i % 5) || '-R' || ((i // 5) % 3) AS role,
            'D' || (i % 5) || '-R' || ((i // 5) % 3) || '-u' || ((i // 15) % 40) AS user,
            [{types}][1 + (i // 7) % 4] AS task_type,
            [{models}][1 + (i * 13) % 3] AS model,
            100 + (i * 7919) % 3000 AS input_tokens,
            10 + (i * 104729) % 800 AS output_tokens
          FROM range({ROWS}) t(i)
        ) TO '{log}' (FORMAT parquet)
        """
    )
    price_case = lambda k: " ".join(f"WHEN '{m}' THEN {p[k]}" for m, p in PRICES.items())
    truth = dict(
        con.execute(
            f"""
            SELECT department, SUM(input_tokens * CASE model {price_case(0)} END
                                   + output_tokens * CASE model {price_case(1)} END) / 1e6 / {DAYS}
            FROM '{log}' GROUP BY department
            """
        ).fetchall()
    )
    con.close()
    catalog = tmp_path / "catalog.yaml"
    lines = ["name: logs", "prices_as_of: 2025-06-01", "baseline: large", "models:"]
    for model, (p_in, p_out) in PRICES.items():
        quality = ", ".join(f"{t}: 90" for t in TYPES)
        lines.append(
            f"  - {{id: {model}, tier: Commercial Small, provider: P, input_usd_per_mtok: {p_in}, "
            f"output_usd_per_mtok: {p_out}, quality: {{{quality}}}}}"
        )
    catalog.write_text("\n".join(lines) + "\n")
    workload, routing = tmp_path / "w.csv", tmp_path / "r.csv"
    made = runner.invoke(
        app, ["workload", "from-logs", str(log), "-o", str(workload), "--current-routing", str(routing)]
    )
    assert made.exit_code == 0, made.output
    result = runner.invoke(
        app, ["optimize", "-c", str(catalog), "-w", str(workload), "--actual", str(routing), "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    actual = json.loads(result.stdout)["actual"]
    got = {d["department"]: d["actual_usd_per_day"] for d in actual["departments"]}
    assert set(got) == set(truth)
    for department, usd in truth.items():
        assert got[department] == pytest.approx(usd, rel=1e-9), department
    assert actual["actual_usd_per_day"] == pytest.approx(sum(truth.values()), rel=1e-9)
