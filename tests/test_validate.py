"""Each rule of router_opt.validate called on its own with one bad input: the message names the file,
the line (and column, for YAML keys) and the field, as worked out by hand from the files below."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from router_opt import validate
from router_opt.errors import InfeasibleError, InputError, RouterOptError
from router_opt.frame import build_problem
from router_opt.io import load_catalog, load_policy, load_workload
from router_opt.validate_files import check_files

CATALOG = """\
name: tiny
currency: USD
prices_as_of: 2026-01-15
baseline: large
quality_scale: {min: 0, max: 100, unit: percent}
models:
  - id: large
    tier: Commercial Large
    provider: OpenAI
    usd_per_mtok: 5.00
    regions: [us, eu]
    quality: {classification: 95, summarization: 90}
  - id: small
    tier: Commercial Small
    provider: Anthropic
    usd_per_mtok: 1.00
    regions: [us]
    quality: {classification: 80}
"""
HEADER = "department,role,headcount,task,task_type,invocations_per_day,input_tokens,output_tokens,min_quality,region\n"
GOOD_ROWS = "Support,Agent,2,Triage,classification,100,900,100,,\nLegal,Counsel,1,Review,classification,5,500,50,,\n"
KNOWN = "classification, summarization"  # the catalog's task types, in first-seen order


@pytest.fixture
def catalog(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG)
    return load_catalog(path)


def _workload(tmp_path: Path, rows: str):
    path = tmp_path / "workload.csv"
    path.write_text(HEADER + rows)
    return load_workload(path), str(path)


def _policy(tmp_path: Path, text: str):
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return load_policy(path), str(path)


def _only(problems):
    assert len(problems) == 1, problems
    return str(problems[0])


# --- the global bar ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_min_quality_must_be_finite(value):
    with pytest.raises(RouterOptError) as err:
        validate.check_min_quality_finite(value)
    assert str(err.value) == f"`min_quality` must be a finite number on the catalog's quality scale, got {value}"
    assert err.value.options == ("min_quality",)
    validate.check_min_quality_finite(None)
    validate.check_min_quality_finite(50.0)


def test_min_quality_must_be_on_the_catalogs_scale(catalog):
    with pytest.raises(InputError) as err:
        validate.check_min_quality_on_scale(101, catalog)
    assert str(err.value) == "`min_quality`: 101 is outside the quality scale of catalog 'tiny', 0..100 (percent)"
    assert err.value.option == "min_quality"
    # the CLI shows it with its flag: --min-quality: 101 is outside ...
    assert err.value.spelled(str(err.value), lambda name: "--min-quality").startswith("--min-quality: 101 is")
    validate.check_min_quality_on_scale(100, catalog)


# --- the workload against the catalog ---------------------------------------------------------------


def test_unknown_task_type_names_file_line_field_and_the_close_type(tmp_path, catalog):
    # line 1 is the header, so the third data row is line 4
    workload, path = _workload(tmp_path, GOOD_ROWS + "Support,Agent,2,Summary,sumarization,10,1000,200,,\n")
    expected = (
        f"{path}:4: task_type: unknown task type 'sumarization' (did you mean 'summarization'?); "
        f"catalog 'tiny' rates: {KNOWN}"
    )
    assert _only(validate.unknown_task_types(catalog, workload)) == expected
    with pytest.raises(InputError) as err:
        validate.check_task_types(catalog, workload)
    assert str(err.value) == expected


def test_unknown_workload_region(tmp_path, catalog):
    workload, path = _workload(tmp_path, GOOD_ROWS + "Legal,Counsel,1,Contracts,classification,5,500,50,,mars\n")
    assert _only(validate.unknown_workload_regions(catalog, workload)) == (
        f"{path}:4: region: no model in catalog 'tiny' serves region 'mars'; its models' regions: eu, us"
    )


# --- the policy against the workload and the catalog ------------------------------------------------


def test_unknown_budget_department_is_located_at_its_key(tmp_path, catalog):
    policy, path = _policy(tmp_path, "default_min_quality: 0\nbudgets_usd_per_day:\n  Suport: 10\n")
    # "  Suport: 10" is line 3; the key starts in column 3
    assert _only(validate.unknown_policy_departments(policy, ["Support", "Legal"])) == (
        f"{path}:3:3: budgets_usd_per_day.Suport: no department 'Suport' in the workload "
        "(did you mean 'Support'?); known: Legal, Support"
    )


def test_unknown_provider_of_a_vendor_cap(tmp_path, catalog):
    policy, path = _policy(tmp_path, "vendor_caps:\n  OpenAl: {max_spend_share: 0.5}\n")
    assert _only(validate.unknown_policy_providers(policy, catalog)) == (
        f"{path}:2:3: vendor_caps.OpenAl: no provider 'OpenAl' in the catalog (did you mean 'OpenAI'?); "
        "known: Anthropic, OpenAI"
    )


def test_a_lookalike_character_is_named():
    # a Cyrillic "а" (U+0430) where "Legal" has a Latin "a"
    assert validate.did_you_mean("Leg\u0430l", "Legal") == (
        " (did you mean 'Legal'? 'Leg\u0430l' holds U+0430 CYRILLIC SMALL LETTER A where 'Legal' has 'a')"
    )
    assert validate.did_you_mean("Suport", "Support") == " (did you mean 'Support'?)"


def test_misspelt_task_type_bar(tmp_path, catalog):
    policy, path = _policy(tmp_path, "min_quality_by_task_type:\n  clasification: 80\n  legal_analysis: 90\n")
    # legal_analysis is far from every rated type: a shared policy may set it, so it is no problem
    assert _only(validate.misspelt_policy_task_types(policy, catalog)) == (
        f"{path}:2:3: min_quality_by_task_type.clasification: no task type 'clasification' in the catalog 'tiny' "
        f"(did you mean 'classification'?); known: {KNOWN}"
    )


def test_unknown_allowed_region(tmp_path, catalog):
    policy, path = _policy(tmp_path, "allowed_regions_by_department:\n  Legal: [mars]\n")
    # The key path is ("allowed_regions_by_department.Legal", "mars"), which the locator cannot
    # follow, so the position is the document's start (1:1).
    assert _only(validate.unknown_policy_regions(policy, catalog)) == (
        f"{path}:1:1: allowed_regions_by_department.Legal.mars: no region 'mars' in the catalog 'tiny' "
        "(models' `regions`); known: eu, us"
    )


def test_policy_bars_off_the_scale(tmp_path, catalog):
    policy, path = _policy(tmp_path, "default_min_quality: 150\nmin_quality_by_task_type:\n  classification: -1\n")
    assert [str(p) for p in validate.policy_bars_off_scale(policy, catalog)] == [
        f"{path}: default_min_quality: threshold 150 is outside the quality scale of catalog 'tiny', 0..100 (percent)",
        (
            f"{path}: min_quality_by_task_type.classification: threshold -1 is outside the quality scale of "
            "catalog 'tiny', 0..100 (percent)"
        ),
    ]


def test_policy_names_are_reported_together_in_rule_order(tmp_path, catalog):
    workload, _ = _workload(tmp_path, GOOD_ROWS)
    policy, _ = _policy(
        tmp_path, "budgets_usd_per_day:\n  Suport: 10\nvendor_caps:\n  OpenAl: {max_spend_share: 0.5}\n"
    )
    with pytest.raises(InputError) as err:
        validate.check_policy_names(policy, catalog, workload)
    assert [(p.line, p.field) for p in err.value.problems] == [
        (2, "budgets_usd_per_day.Suport"),
        (4, "vendor_caps.OpenAl"),
    ]


def test_policy_locator_without_a_file():
    from router_opt.models import Policy

    assert validate.policy_locator(Policy())(("budgets_usd_per_day", "x")) == (None, None)


# --- after the arrays are built ---------------------------------------------------------------------


def test_unservable_task_names_its_row_bar_and_best_offer(tmp_path, catalog):
    from router_opt.models import Policy

    workload, path = _workload(tmp_path, GOOD_ROWS + "Support,Agent,2,Summary,summarization,10,1000,200,99,\n")
    with pytest.raises(InfeasibleError) as err:
        build_problem(catalog, workload, Policy())  # build_problem runs check_servable last
    # summarization: only `large` rates it, at 90 < 99
    assert [str(t) for t in err.value.tasks] == [
        f"{path}:4: Support / Agent / Summary [summarization]: needs quality >= 99, best on offer 90 (large)"
    ]


def test_files_check_names_each_faulty_file_and_the_good_ones(tmp_path):
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    workload_path = tmp_path / "workload.csv"
    workload_path.write_text(HEADER + GOOD_ROWS + "Support,Agent,2,Summary,sumarization,10,1000,200,,\n")
    checked = []
    result = check_files([tmp_path / "catalog.yaml", workload_path], on_checked=lambda *pair: checked.append(pair))
    assert [(str(path), kind) for path, kind, _ in result.ok] == [(str(tmp_path / "catalog.yaml"), "catalog")]
    assert [str(p) for p in result.problems] == [
        (
            f"{workload_path}:4: task_type: unknown task type 'sumarization' (did you mean 'summarization'?); "
            f"catalog 'tiny' rates: {KNOWN}"
        )
    ]
    assert checked == []  # the only workload failed its check
    with pytest.raises(InputError):
        result.raise_problems()
