"""The `router-opt` command. Commands only declare options and call the library; errors become
messages in one place (`_handled`): bad input exits 2, an internal failure exits 1."""

from __future__ import annotations

import functools
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from router_opt import __version__
from router_opt.errors import InputError, RouterOptError
from router_opt.frame import Mode
from router_opt.solver import Objective

app = typer.Typer(
    help="Route each LLM task to the cheapest model that meets its quality bar, and show what "
    "sending everything to one large model overspends, per role and department.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(help="Inspect model catalogs.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class PlanFormat(StrEnum):
    """Formats of `optimize` (the plan has more renderers than other commands)."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    xlsx = "xlsx"
    html = "html"
    focus = "focus"


def _fail(message: str, code: int) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _handled(command):
    """Run a command, turning router-opt's own errors into a message and exit code 2, and anything
    unexpected into a one-line internal error with exit code 1 (ROUTER_OPT_DEBUG=1 shows the traceback)."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except InputError as exc:
            count = len(exc.problems)
            _fail(f"error: {count} problem(s) in the input:\n" + "\n".join(f"  {p}" for p in exc.problems), 2)
        except RouterOptError as exc:
            _fail(f"error: {exc}", 2)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:  # noqa: BLE001 - the one place unexpected errors are reported
            if os.environ.get("ROUTER_OPT_DEBUG"):
                raise
            _fail(
                f"internal error: {exc.__class__.__name__}: {exc}\n"
                "This is a bug in router-opt. Rerun with ROUTER_OPT_DEBUG=1 for the traceback and report it.",
                1,
            )

    return run


class _working:
    """A spinner on stderr while the library works, for a person at a terminal only (never in pipes,
    CI logs or tests): the library itself never prints."""

    def __init__(self, message: str):
        self.message = message
        self.status = None

    def __enter__(self):
        if sys.stderr.isatty():
            from rich.console import Console

            self.status = Console(stderr=True).status(self.message + "...")
            self.status.__enter__()
        return self

    def __exit__(self, *exc):
        if self.status is not None:
            self.status.__exit__(*exc)
        return False


def _emit(text: str | bytes, output: Path | None) -> None:
    from router_opt.io import write_atomic

    if output is None:
        if isinstance(text, bytes):
            raise RouterOptError("this format is binary: give --output FILE (e.g. --output plan.xlsx)")
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_atomic(output, text)
    typer.echo(f"wrote {output}", err=True)


CatalogOption = Annotated[
    Path | None,
    typer.Option("--catalog", "-c", help="Catalog YAML. Default: the bundled catalogs/seven-tiers-2025.yaml."),
]
WorkloadOption = Annotated[
    Path | None,
    typer.Option("--workload", "-w", help="Workload CSV, XLSX or YAML. Default: the bundled workloads/enterprise-14-roles.csv."),
]
PolicyOption = Annotated[
    Path | None,
    typer.Option("--policy", "-p", help="Policy YAML (quality thresholds). Default: the bundled policies/default.yaml."),
]


@app.command()
@_handled
def optimize(
    catalog: CatalogOption = None,
    workload: WorkloadOption = None,
    policy: PolicyOption = None,
    mode: Annotated[
        Mode,
        typer.Option(
            help="strict: only models meeting each task's bar; blended: the mix meets the bar on average; "
            "single: strict, and each task wholly on one model (mixed-integer)."
        ),
    ] = Mode.STRICT,
    objective: Annotated[
        Objective,
        typer.Option(help="cost: cheapest plan; quality: best quality within the policy's budgets, then cheapest."),
    ] = Objective.COST,
    min_quality: Annotated[
        float | None,
        typer.Option(help="Quality bar for every task without its own min_quality (overrides the policy)."),
    ] = None,
    top: Annotated[int, typer.Option(min=0, help="How many highest-volume tasks to list.")] = 10,
    explain: Annotated[
        bool,
        typer.Option("--explain", help="Add each task's decision record: runner-up, binding constraints, fallbacks."),
    ] = False,
    output_format: Annotated[
        PlanFormat,
        typer.Option(
            "--format",
            "-f",
            help="table (terminal), markdown (pull requests), json (full result), csv (assignments), "
            "xlsx (workbook, needs --output), html (self-contained report), focus (FinOps FOCUS CSV).",
        ),
    ] = PlanFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
    solver: Annotated[
        str,
        typer.Option(
            help="auto (HiGHS through PuLP, else CBC), highs, cbc, or highspy (the same program passed to HiGHS "
            "directly: fastest on large cases)."
        ),
    ] = "auto",
    time_limit: Annotated[
        float | None,
        typer.Option(min=0, help="Seconds a mixed-integer solve (--mode single, self-hosted deployments) may take; the gap reached is reported."),
    ] = None,
) -> None:
    """Solve for the cheapest routing plan and report the overspend of the all-large habit."""
    from router_opt.plan import optimize as run_optimize
    from router_opt.report import render

    if output_format is PlanFormat.xlsx and output is None:
        raise RouterOptError("--format xlsx writes a workbook: give --output FILE.xlsx")
    with _working("Optimising the routing plan"):
        result = run_optimize(
            catalog,
            workload,
            policy,
            mode=mode,
            min_quality=min_quality,
            solver=solver,
            objective=objective,
            time_limit_seconds=time_limit,
        )
    _emit(render(result, output_format.value, top=top, explain=explain), output)


@app.command()
@_handled
def validate(
    files: Annotated[list[Path], typer.Argument(help="Catalog, workload and policy files, in any order.")],
    catalog: Annotated[
        Path | None,
        typer.Option("--catalog", "-c", help="Catalog to check workloads against when none is among FILES (default: bundled)."),
    ] = None,
) -> None:
    """Check files without solving: formats, fields, and (for workloads) task types and thresholds
    against a catalog."""
    from router_opt.bundled import DEFAULT_CATALOG, DEFAULT_POLICY, bundled_path
    from router_opt.frame import build_problem
    from router_opt.io import detect_kind, load_catalog, load_policy, load_workload

    problems, loaded = [], {"catalog": [], "workload": [], "policy": []}
    loaders = {"catalog": load_catalog, "workload": load_workload, "policy": load_policy}
    for path in files:
        try:
            kind = detect_kind(path)
            loaded[kind].append((path, loaders[kind](path)))
        except InputError as exc:
            problems += exc.problems
    if loaded["workload"]:
        try:
            if loaded["catalog"]:
                against_path, against = loaded["catalog"][0]
            else:
                against_path = catalog or bundled_path(DEFAULT_CATALOG)
                against = load_catalog(against_path)
            policy = loaded["policy"][0][1] if loaded["policy"] else load_policy(bundled_path(DEFAULT_POLICY))
            for path, workload in loaded["workload"]:
                build_problem(against, workload, policy)
                typer.echo(f"checked {path} against catalog {against_path}", err=True)
        except InputError as exc:
            problems += exc.problems
    for kind, items in loaded.items():
        for path, obj in items:
            detail = {
                "catalog": lambda c: f"{len(c.models)} models, {len(c.task_types)} task types, baseline {c.baseline}",
                "workload": lambda w: f"{len(w.tasks)} tasks in {len({(t.department, t.role) for t in w.tasks})} roles",
                "policy": lambda p: f"{len(p.min_quality_by_task_type)} task-type thresholds",
            }[kind](obj)
            typer.echo(f"ok  {path}  ({kind}: {detail})")
    if problems:
        raise InputError(problems)


@app.command()
@_handled
def diff(
    old: Annotated[Path, typer.Argument(help="A plan saved with `optimize --format json`.")],
    new: Annotated[Path, typer.Argument(help="Another plan to compare with OLD.")],
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table, markdown or json.")] = OutputFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Compare two saved plans: per-department change in $/day and overspend, with totals."""
    from router_opt.diff import diff_results, load_result
    from router_opt.report import diff_sections, render_sections

    if output_format is OutputFormat.csv:
        raise RouterOptError("diff supports --format table, markdown or json")
    result = diff_results(load_result(old), load_result(new), str(old), str(new))
    if output_format is OutputFormat.json:
        _emit(result.model_dump_json(indent=2) + "\n", output)
    else:
        _emit(render_sections(diff_sections(result), output_format.value), output)


@catalog_app.command("show")
@_handled
def catalog_show(
    catalog: CatalogOption = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table, json or markdown.")] = OutputFormat.table,
) -> None:
    """List the catalog's models: tier, provider, prices and how many task types each rates."""
    from router_opt.bundled import DEFAULT_CATALOG, bundled_path
    from router_opt.io import load_catalog
    from router_opt.report.catalog import render_catalog

    loaded = load_catalog(catalog or bundled_path(DEFAULT_CATALOG))
    _emit(render_catalog(loaded, output_format.value), None)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"router-opt {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """router-opt: what should our LLM traffic cost?"""

