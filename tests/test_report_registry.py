"""The renderer registry (router_opt/report/registry.py) is the one list of output formats: every format
it lists renders, the CLI offers exactly its formats (read from the command objects, not restated
here) with its help text, and the plan's JSON reads back as the same Result."""

from __future__ import annotations

from enum import Enum

import pytest
import typer.main

from router_opt.cli import app
from router_opt.report import registry
from router_opt.report.registry import (
    ANALYSIS_FORMATS,
    CATALOG_FORMATS,
    PLAN_FORMATS,
    PRICE_CHECK_FORMATS,
    SECTION_FORMATS,
    Format,
    Formats,
)

# Which registry each command's --format comes from.
COMMANDS = {
    ("optimize",): PLAN_FORMATS,
    ("frontier",): ANALYSIS_FORMATS,
    ("frontier-budget",): ANALYSIS_FORMATS,
    ("reasoning",): ANALYSIS_FORMATS,
    ("trajectory",): ANALYSIS_FORMATS,
    ("breakeven",): ANALYSIS_FORMATS,
    ("training-cost",): ANALYSIS_FORMATS,
    ("ranges",): ANALYSIS_FORMATS,
    ("diff",): SECTION_FORMATS,
    ("drift",): SECTION_FORMATS,
    ("batch",): SECTION_FORMATS,
    ("catalog", "show"): CATALOG_FORMATS,
    ("catalog", "check"): PRICE_CHECK_FORMATS,
}
# --format options whose choices are not report formats (a gateway's configuration).
NOT_REPORTS = {("export-policy",)}


@pytest.fixture(scope="module")
def plan():
    from router_opt.plan import optimize

    return optimize()


def _format_options(group, path=()):
    """(command path, its --format option) for every command of the CLI that has one."""
    for name, command in group.commands.items():
        here = (*path, name)
        if hasattr(command, "commands"):
            yield from _format_options(command, here)
            continue
        for param in command.params:
            if "--format" in getattr(param, "opts", ()):
                yield here, param


def _choices(param) -> list[str]:
    """The option's choices as the command object holds them (typer's type descriptor, or click's Choice)."""
    descriptor = getattr(param, "type_descriptor", None)
    choices = descriptor.choices if descriptor is not None else param.type.choices
    return [c.value if isinstance(c, Enum) else str(c) for c in choices]


def _kind_ok(spec: Format, output) -> bool:
    if not isinstance(output, spec.returns) or not output:
        return False
    if isinstance(output, bytes) and not spec.binary:
        output.decode("utf-8")  # text as UTF-8 bytes (json)
    return True


@pytest.mark.parametrize("name", list(PLAN_FORMATS))
def test_every_plan_format_renders_the_default_plan(plan, name):
    spec = PLAN_FORMATS[name]
    output = registry.render(plan, name)
    assert _kind_ok(spec, output), (name, type(output))
    if spec.binary:
        assert output[:2] == b"PK"  # a zip: the workbook
    assert spec.extension and spec.renderer


def test_every_section_catalog_and_analysis_format_renders(plan):
    from router_opt.analyses.breakeven import breakeven
    from router_opt.bundled import DEFAULT_CATALOG, bundled_path
    from router_opt.io import load_catalog
    from router_opt.report.plan import sections

    parts = sections(plan, top=3)
    for name in SECTION_FORMATS:
        spec = SECTION_FORMATS[name]
        if spec.renderer is None:  # written by the command itself (its result as JSON)
            with pytest.raises(ValueError):
                registry.render_sections(parts, name)
            continue
        assert _kind_ok(spec, registry.render_sections(parts, name, preamble="head")), name
    catalog = load_catalog(bundled_path(DEFAULT_CATALOG))
    for name in CATALOG_FORMATS:
        assert _kind_ok(CATALOG_FORMATS[name], CATALOG_FORMATS.render(name, catalog)), name
    analysis = breakeven(api_model="claude-sonnet", tokens_per_day=2e6)
    for name in ANALYSIS_FORMATS:
        assert _kind_ok(ANALYSIS_FORMATS[name], ANALYSIS_FORMATS.render(name, analysis)), name


def test_cli_format_choices_and_help_come_from_the_registry():
    found = dict(_format_options(typer.main.get_command(app)))
    assert set(found) - NOT_REPORTS == set(COMMANDS)
    for path, formats in COMMANDS.items():
        option = found[path]
        assert _choices(option) == list(formats), path
        assert option.help == formats.help, path
        default = option.default.value if isinstance(option.default, Enum) else option.default
        assert default == next(iter(formats)), path


def test_optimize_help_text_is_unchanged():
    assert PLAN_FORMATS.help == (
        "table (terminal), markdown (pull requests), json (full result; decision records with --explain), "
        "csv (assignments), xlsx (workbook, needs --output), html (self-contained report), focus (FinOps FOCUS CSV)."
    )
    assert ANALYSIS_FORMATS.help == "table (terminal), json (every figure at full precision) or markdown."


def test_json_reads_back_as_the_same_result(plan):
    assert type(plan).model_validate_json(registry.render(plan, "json")) == plan


def test_a_format_that_needs_an_output_file_says_so():
    from router_opt.errors import RouterOptError

    # The library names its parameters; the CLI spells them as flags (`router-opt optimize -f xlsx`).
    with pytest.raises(
        RouterOptError, match=r"^`output_format` xlsx writes a workbook: give `output` FILE\.xlsx$"
    ) as caught:
        PLAN_FORMATS.require_output("xlsx", None)
    assert caught.value.options == ("output_format", "output")
    PLAN_FORMATS.require_output("table", None)
    with pytest.raises(ValueError, match="unknown format 'nope'; plan formats: table, markdown"):
        PLAN_FORMATS["nope"]


def test_adding_a_format_is_one_entry():
    formats = Formats("demo", Format("table", "router_opt.report.text:sections_as_text", "terminal"))
    assert formats.help == "table (terminal)."
    assert [m.value for m in formats.choices("DemoFormat")] == ["table"]
