"""Loaders: good files load, bad files fail with file, line and field, all problems at once."""

from __future__ import annotations

import textwrap

import pytest

from router_opt.errors import InputError
from router_opt.io import load_catalog, load_policy, load_workload

CATALOG = """\
name: acme
prices_as_of: 2025-06-01
baseline: big
models:
  - id: big
    tier: Commercial Large
    provider: OpenAI
    input_usd_per_mtok: 2.5
    output_usd_per_mtok: 10
    quality: {faq: 90}
  - id: small
    tier: Commercial Small
    provider: Google
    input_usd_per_mtok: cheap
    output_usd_per_mtok: 0.3
    quality: {faq: 80}
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def messages(exc: pytest.ExceptionInfo) -> list[str]:
    return [str(p) for p in exc.value.problems]


def test_catalog_error_names_line_column_and_field(tmp_path):
    path = write(tmp_path, "acme.yaml", CATALOG)
    with pytest.raises(InputError) as caught:
        load_catalog(path)
    assert messages(caught) == [f"{path}:14:25: models[1].input_usd_per_mtok: must be a number, got 'cheap'"]


def test_catalog_reports_every_problem_in_one_pass(tmp_path):
    text = CATALOG.replace("cheap", "-1").replace("baseline: big", "baseline: huge").replace("id: small", "id: big")
    text = text.replace("quality: {faq: 80}", "quality: {faq: 180}")
    path = write(tmp_path, "acme.yaml", text)
    with pytest.raises(InputError) as caught:
        load_catalog(path)
    found = messages(caught)
    assert f"{path}:14:25: models[1].input_usd_per_mtok: must be a number ≥ 0.0, got -1" in found
    assert len(found) == 1  # field errors stop model-level checks; fix and rerun shows the next layer
    path.write_text(text.replace("-1", "0.1"))
    with pytest.raises(InputError) as caught:
        load_catalog(path)
    found = messages(caught)
    assert f"{path}:11:9: models[1].id: duplicate model id 'big' (first used by models[0])" in found
    assert f"{path}:16:20: models[1].quality.faq: 180 is outside the catalog's quality scale 0..100" in found
    assert any("baseline: 'huge' is not a model id in this catalog" in m and ":3:" in m for m in found)


def test_blended_price_shorthand(tmp_path):
    text = CATALOG.replace("input_usd_per_mtok: cheap\n    output_usd_per_mtok: 0.3", "usd_per_mtok: 0.3")
    catalog = load_catalog(write(tmp_path, "acme.yaml", text))
    small = catalog.models[1]
    assert (small.input_usd_per_mtok, small.output_usd_per_mtok) == (0.3, 0.3)


def test_unknown_catalog_key_is_an_error(tmp_path):
    path = write(
        tmp_path, "acme.yaml", CATALOG.replace("cheap", "0.1").replace("name: acme", "name: acme\ncurrencyy: USD")
    )
    with pytest.raises(InputError) as caught:
        load_catalog(path)
    assert messages(caught) == [
        (
            f"{path}:2:12: currencyy: unknown field (check the spelling); "
            "allowed here: name, currency, prices_as_of, baseline, quality_scale, models"
        )
    ]


def test_invalid_yaml_points_at_the_line(tmp_path):
    path = write(tmp_path, "broken.yaml", "name: x\nmodels: [\n  - a\n")
    with pytest.raises(InputError) as caught:
        load_catalog(path)
    assert messages(caught)[0].startswith(f"{path}:") and "not valid YAML" in messages(caught)[0]


HEADER = "department,role,headcount,task,task_type,invocations_per_day,input_tokens,output_tokens,min_quality\n"


def test_csv_workload_loads_with_bom_and_semicolons(tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes(("\ufeff" + HEADER.replace(",", ";") + "Sales;Rep;3;Lead scoring;faq;10;500;50;\n").encode())
    workload = load_workload(path)
    task = workload.tasks[0]
    assert (task.headcount, task.invocations_per_day, task.min_quality) == (3, 10.0, None)
    assert workload.source_lines == (2,)


def test_csv_workload_reports_all_row_problems(tmp_path):
    path = write(
        tmp_path,
        "w.csv",
        HEADER
        + "Sales,Rep,1,A,faq,-3,500,50,\n"
        + "Sales,Rep,1,B,faq,10,500,50,nan\n"
        + "Sales,Rep,1,C,faq,10,500,,\n",
    )
    with pytest.raises(InputError) as caught:
        load_workload(path)
    assert messages(caught) == [
        f"{path}:2: invocations_per_day: must be a number ≥ 0.0, got '-3'",
        f"{path}:3: min_quality: must be a finite number, got 'nan'",
        f"{path}:4: output_tokens: required field is missing",
    ]


def test_csv_missing_and_unknown_columns(tmp_path):
    path = write(tmp_path, "w.csv", "department,role,task,task_typ\nA,B,C,D\n")
    with pytest.raises(InputError) as caught:
        load_workload(path)
    found = messages(caught)
    assert found[0].startswith(f"{path}:1: missing column(s): headcount, task_type, invocations_per_day")
    assert found[1].startswith(
        f"{path}:1: unknown column(s): task_typ (did you mean 'task_type'?); allowed: department"
    )


def test_duplicate_rows_and_conflicting_headcount(tmp_path):
    path = write(tmp_path, "w.csv", HEADER + "S,R,1,A,faq,1,1,1,\nS,R,2,B,faq,1,1,1,\nS,R,1,A,faq,1,1,1,\n")
    with pytest.raises(InputError) as caught:
        load_workload(path)
    assert messages(caught) == [
        f"{path}:3: headcount: S / R has headcount 2 here but 1 at line 2; a role has one headcount",
        f"{path}:4: task: duplicate task 'A' for S / R (first at line 2)",
    ]


def test_every_problem_of_a_workload_in_one_pass_in_file_order(tmp_path):
    """Row errors do not hide the checks across rows: the duplicate and the second headcount are
    named with the bad cells, in the order of the file (the extra cell's row came first before)."""
    path = write(
        tmp_path,
        "w.csv",
        HEADER
        + "S,R,1,A,faq,1,1,1,\n"  # line 2
        + "S,R,,B,faq,1,1,1,\n"  # line 3: no headcount
        + "S,R,1,A,faq,1,1,1,\n"  # line 4: A again
        + "S,R,2,C,faq,1,1,1,\n"  # line 5: another headcount for S / R
        + "S,R,1,D,faq,eighty,1,1,\n"  # line 6: not a number
        + "S,R,1,E,faq,1,1,1,,extra\n",  # line 7: a cell too many
    )
    with pytest.raises(InputError) as caught:
        load_workload(path)
    assert messages(caught) == [
        f"{path}:3: headcount: required field is missing",
        f"{path}:4: task: duplicate task 'A' for S / R (first at line 2)",
        f"{path}:5: headcount: S / R has headcount 2 here but 1 at line 2; a role has one headcount",
        f"{path}:6: invocations_per_day: must be a number, got 'eighty'",
        f"{path}:7: has 10 cells but the header has 9",
    ]


def test_yaml_and_xlsx_workloads_match_csv(tmp_path):
    from openpyxl import Workbook

    rows = [["Sales", "Rep", 2, "Lead scoring", "faq", 10, 500, 50, None]]
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    for row in rows:
        sheet.append(row)
    book.save(tmp_path / "w.xlsx")
    yaml_path = write(
        tmp_path,
        "w.yaml",
        """\
        name: w
        tasks:
          - {department: Sales, role: Rep, headcount: 2, task: Lead scoring, task_type: faq,
             invocations_per_day: 10, input_tokens: 500, output_tokens: 50}
        """,
    )
    csv_path = write(tmp_path, "w.csv", HEADER + "Sales,Rep,2,Lead scoring,faq,10,500,50,\n")
    loaded = [load_workload(p).tasks for p in (tmp_path / "w.xlsx", yaml_path, csv_path)]
    assert loaded[0] == loaded[1] == loaded[2]


def test_xlsx_formula_cells_are_refused(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(["Sales", "Rep", 2, "Lead scoring", "faq", "=5*2", 500, 50, None])
    path = tmp_path / "w.xlsx"
    book.save(path)
    with pytest.raises(InputError) as caught:
        load_workload(path)
    assert messages(caught) == [f"{path}:2: invocations_per_day: is a formula (=5*2); paste values instead"]


def test_binary_empty_and_non_utf8_files(tmp_path):
    cases = {
        "empty.csv": b"",
        "binary.csv": b"\x00\x01\x02PK",
        "latin1.csv": HEADER.encode() + "Sales,R\xe9p,1,A,faq,1,1,1,\n".encode("latin-1"),
    }
    expected = {
        "empty.csv": "file is empty",
        "binary.csv": "looks like a binary file, expected UTF-8 text",
        "latin1.csv": "is not UTF-8 text (byte 0xe9); save it as UTF-8",
    }
    for name, payload in cases.items():
        path = tmp_path / name
        path.write_bytes(payload)
        with pytest.raises(InputError) as caught:
            load_workload(path)
        assert expected[name] in messages(caught)[0]


def test_bundled_files_load():
    from router_opt.bundled import DEFAULT_CATALOG, DEFAULT_POLICY, DEFAULT_WORKLOAD, bundled_path

    catalog = load_catalog(bundled_path(DEFAULT_CATALOG))
    assert [str(m.tier) for m in catalog.models] == [
        "Reasoning",
        "Commercial Large",
        "Commercial Small",
        "Open-Source",
        "Fine-Tuned",
        "Instruct",
        "Specialist",
    ]
    assert len(catalog.task_types) >= 12 and all(m.sources for m in catalog.models)
    workload = load_workload(bundled_path(DEFAULT_WORKLOAD))
    assert len(workload.tasks) >= 90
    assert len({(t.department, t.role) for t in workload.tasks}) == 14
    policy = load_policy(bundled_path(DEFAULT_POLICY))
    baseline = catalog.baseline_model
    # The default bars never exceed the baseline's quality, so the all-large plan is feasible.
    assert all(baseline.quality[k] >= v for k, v in policy.min_quality_by_task_type.items())


def test_yaml_reads_core_schema_scalars(tmp_path):
    """One parser for every YAML file (events from libyaml, values by YAML 1.2's core schema):
    'no', 'on', 'off', 'Yes' are text, 010 is ten, 1e-1 a number, a date is text the field checks."""
    from router_opt.io.yaml_io import parse_yaml
    from router_opt.models import Catalog

    tricky = tmp_path / "tricky.yaml"
    tricky.write_text(
        "name: tricky\nprices_as_of: 2025-06-30\nbaseline: 'no'\nmodels:\n"
        "  - {id: 'no', tier: Commercial Large, provider: on, input_usd_per_mtok: 3, output_usd_per_mtok: 15,"
        " quality: {faq: 010, 'yes': 90.5}}\n"
        "  - {id: off, tier: Instruct, provider: Yes, input_usd_per_mtok: 0.1, output_usd_per_mtok: 1e-1,"
        " quality: {faq: 80}}\n"
    )
    data = parse_yaml(tricky)
    assert data["prices_as_of"] == "2025-06-30"
    first, second = data["models"]
    assert (first["provider"], first["quality"], second["id"], second["provider"]) == (
        "on",
        {"faq": 10, "yes": 90.5},
        "off",
        "Yes",
    )
    assert second["output_usd_per_mtok"] == 0.1
    catalog = load_catalog(tricky)
    assert catalog == Catalog.model_validate(data)
    assert str(catalog.prices_as_of) == "2025-06-30"


def test_deep_flow_nesting_is_refused_not_a_crash(tmp_path):
    """libyaml recurses in C without Python's limit: 100,000 levels of '[' crashed the process on
    the fast path. Such a file goes to the round-trip parser, which refuses it with a message."""
    deep = tmp_path / "deep.yaml"
    deep.write_text("models: " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(InputError, match="nests lists/mappings more than 50 levels deep"):
        load_catalog(deep)
