"""The `router-opt` command. Commands only declare options and call the library; errors become
messages in one place (`_handled`): bad input exits 2, an internal failure exits 1.

No `from __future__ import annotations` here: typer reads every command's annotations at each
start, and as strings it evaluates them all again, which costs every command measurably (figure:
docs/PERFORMANCE.md, "Figures moved from code comments")."""

import functools
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from router_opt import __version__
from router_opt.engine import Objective
from router_opt.errors import InputError, RouterOptError
from router_opt.frame import Mode
from router_opt.report.registry import (
    ANALYSIS_FORMATS,
    CATALOG_FORMATS,
    PLAN_FORMATS,
    PRICE_CHECK_FORMATS,
    SECTION_FORMATS,
)

app = typer.Typer(
    help="Route each LLM task to the cheapest model that meets its quality bar, and show what "
    "sending everything to one large model overspends, per role and department.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(help="Inspect, import and check model catalogs.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


# Each command's --format choices and help come from router_opt.report.registry.
OutputFormat = CATALOG_FORMATS.choices("OutputFormat")
PriceCheckFormat = PRICE_CHECK_FORMATS.choices("PriceCheckFormat")
DiffFormat = SECTION_FORMATS.choices("DiffFormat")
PlanFormat = PLAN_FORMATS.choices("PlanFormat")


def _fail(message: str, code: int) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


class _printing_notes:
    """Print the notes loaders issue (router_opt.errors.InputNote: which sheet of a workbook was read,
    a title row skipped) as `note: ...` on stderr, each once; other warnings as Python shows them."""

    def __enter__(self):
        import warnings

        from router_opt.errors import InputNote

        self.saved = warnings.catch_warnings()
        self.saved.__enter__()
        warnings.simplefilter("default", InputNote)
        shown = warnings.showwarning

        def show(message, category, *args, **kwargs):
            if issubclass(category, InputNote):
                typer.echo(f"note: {message}", err=True)
            else:
                shown(message, category, *args, **kwargs)

        warnings.showwarning = show
        return self

    def __exit__(self, *exc):
        self.saved.__exit__(*exc)
        return False


def _handled(command):
    """Run a command, turning router-opt's own errors into a message and exit code 2, and anything
    unexpected into a one-line internal error with exit code 1 (ROUTER_OPT_DEBUG=1 shows the traceback)."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        from router_opt.io.text import tracking_files
        from router_opt.process import one_command

        try:
            # The files a command reads are recorded, so that no output overwrites one of them.
            with one_command(), tracking_files(), _printing_notes():
                return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except InputError as exc:
            from router_opt.errors import render_problems

            lines = render_problems(exc.problems)  # the first few of each kind, and a count of the rest
            text = f"error: {len(exc.problems):,} problem(s) in the input:\n" + "\n".join(f"  {p}" for p in lines)
            _fail(exc.spelled(text, _flag), 2)
        except RouterOptError as exc:
            _fail("error: " + exc.spelled(str(exc), _flag), 2)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:
            if os.environ.get("ROUTER_OPT_DEBUG"):
                raise
            _fail(
                f"internal error: {exc.__class__.__name__}: {exc}\n"
                "This is a bug in router-opt. Rerun with ROUTER_OPT_DEBUG=1 for the traceback and report it.",
                1,
            )

    return run


# How the command line spells the library parameters that errors name (RouterOptError.options), where
# it is not the parameter in dashes (`min_quality` -> `--min-quality`).
_FLAGS = {"mapping": "--map", "columns": "--map", "source": "--from", "path": "PATH", "output_format": "--format"}


def _flag(parameter: str) -> str:
    """The command line's spelling of a library parameter an error names."""
    return _FLAGS.get(parameter) or "--" + parameter.replace("_", "-")


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


class _progress:
    """A progress bar on stderr for sweeps, for a person at a terminal only; yields the callback
    (done, total) the analyses call after each step."""

    def __init__(self, label: str):
        self.label = label
        self.bar = None
        self.task = None

    def __enter__(self):
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.bar.__enter__()
        self.task = self.bar.add_task(self.label, total=None)

        def step(done: int, total: int) -> None:
            self.bar.update(self.task, completed=done, total=total)

        return step

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
        return False


def _emit(text: str | bytes, output: Path | None) -> None:
    """Print, or write to --output under router_opt.io.writers' rules (never one of the command's
    inputs, never replacing a pipe or a device, atomic for a regular file)."""
    from router_opt.io.writers import OutputError, descriptor_of, write_output

    descriptor = descriptor_of(output) if output is not None else None
    if output is None or descriptor in (1, 2):
        stream = sys.stderr if descriptor == 2 else sys.stdout
        try:
            _print(text, stream)
        except BrokenPipeError:  # `| head`: the reader has what it wanted
            raise typer.Exit(0) from None
        except OSError as exc:
            where = str(output) if output is not None else "standard output"
            raise OutputError(where, f"cannot write: {exc.strerror or exc}") from None
        return
    write_output(output, text)
    typer.echo(f"wrote {output}", err=True)


def _print(text: str | bytes, stream) -> None:
    # Bytes here are UTF-8 text (JSON): commands whose format is binary (xlsx) refuse to run
    # without --output before they get this far.
    buffer = getattr(stream, "buffer", None)  # absent on StringIO, some notebook consoles
    if isinstance(text, bytes) and buffer is not None:
        stream.flush()
        buffer.write(text)
        buffer.flush()
    elif isinstance(text, bytes):
        stream.write(text.decode("utf-8"))
        stream.flush()
    else:
        stream.write(text)
        stream.flush()


CatalogOption = Annotated[
    Path | None,
    typer.Option("--catalog", "-c", help="Catalog YAML. Default: the bundled catalogs/seven-tiers-2025.yaml."),
]
WorkloadOption = Annotated[
    Path | None,
    typer.Option(
        "--workload", "-w", help="Workload CSV, XLSX or YAML. Default: the bundled workloads/enterprise-14-roles.csv."
    ),
]
SheetOption = Annotated[
    str | None,
    typer.Option(
        "--sheet",
        help="Workbook sheet to read the workload from (default: a visible sheet named 'workload', else the first visible one).",
    ),
]
HeaderRowOption = Annotated[
    int | None,
    typer.Option(
        "--header-row",
        min=1,
        help="Line (CSV) or row (XLSX) of the workload's header (default: the first non-blank one, "
        "or the first naming workload columns when a title is above it).",
    ),
]
MapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        help="FIELD=COLUMN: read workload FIELD (task_type, headcount, ...) from the column headed COLUMN. Repeatable.",
    ),
]


def _workload_options(sheet: str | None, header_row: int | None, map_: list[str] | None):
    """--sheet, --header-row and --map as the loader's WorkloadOptions (None when none is given)."""
    from router_opt.io.loaders import WorkloadOptions

    columns: dict[str, str] = {}
    for item in map_ or []:
        name, sep, column = item.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise RouterOptError(f"--map {item}: expected FIELD=COLUMN, e.g. --map task_type=Category")
        if name.strip() in columns:
            raise RouterOptError(f"--map {item}: {name.strip()} is mapped twice")
        columns[name.strip()] = column.strip()
    options = WorkloadOptions(sheet=sheet, header_row=header_row, columns=columns)
    return options if options.given else None


PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        "-p",
        help="Policy YAML (quality thresholds). Default: the bundled policies/default.yaml for the bundled catalog; for a catalog of your own, each task type's bar is the baseline's own quality on it.",
    ),
]


ModeOption = Annotated[
    Mode,
    typer.Option(
        help="strict: only models meeting each task's bar; blended: the mix meets the bar on average; "
        "single: strict, and each task wholly on one model (mixed-integer)."
    ),
]
ObjectiveOption = Annotated[
    Objective,
    typer.Option(help="cost: cheapest plan; quality: best quality within the policy's budgets, then cheapest."),
]
MinQualityOption = Annotated[
    float | None,
    typer.Option(help="Quality bar for every task without its own min_quality (overrides the policy)."),
]
ExplainOption = Annotated[
    bool,
    typer.Option(
        "--explain",
        help="Add each task's decision record (runner-up, binding constraints, cheaper models excluded and "
        "why, fallbacks, cost of one more quality point) to the table, Markdown, HTML or JSON report (the "
        "workbook has no decisions sheet); in JSON, `decisions` is null without it.",
    ),
]
PlanFrontierOption = Annotated[
    bool,
    typer.Option(
        "--frontier",
        help="Also sweep the quality bar (as `router-opt frontier`) and add the cost-quality curve to the report.",
    ),
]
ActualOption = Annotated[
    Path | None,
    typer.Option(
        "--actual",
        help="Today's routing (`workload from-logs --current-routing` CSV): priced with the catalog and set "
        "beside the plan and the all-large habit, per department, role and task; savings against today.",
    ),
]
SolverOption = Annotated[
    str,
    typer.Option(
        help="auto (HiGHS through PuLP for small programs, a price-and-fix decomposition with an optimality "
        "proof for large coupled LPs, highspy directly otherwise; CBC if highspy is missing), highs, cbc, "
        "highspy (the same program passed to HiGHS directly) or decompose."
    ),
]
TimeLimitOption = Annotated[
    float | None,
    typer.Option(
        min=0,
        help="Seconds a mixed-integer solve (--mode single, self-hosted deployments) may take; the gap reached is reported.",
    ),
]
ConfidenceOption = Annotated[
    float | None,
    typer.Option(
        "--confidence",
        min=0.5,
        max=0.999999,
        help="A robust plan: each task's model meets its bar with at least this probability under the catalog's "
        "quality_interval (models without one at their point quality); strict or single mode. The warnings say "
        "what it costs in $/day beside the nominal plan.",
    ),
]


def _robust_plan(inputs, confidence: float | None, *, objective, decisions: bool, actual, **settings):
    """optimize's plan (router_opt.plan.optimize_inputs); at `confidence`, the robust plan with a warning
    setting its $/day beside the nominal plan's (router_opt.uncertainty.confidence_note)."""
    from router_opt.plan import optimize_inputs

    kwargs = {"objective": objective, "decisions": decisions, "actual_routing": actual, "confidence": confidence}
    result = optimize_inputs(inputs, **kwargs, **settings)
    if confidence is None:
        return result
    from router_opt.uncertainty import confidence_note

    note = confidence_note(optimize_inputs(inputs, decisions=False, **settings), result, confidence, inputs.catalog)
    return result.model_copy(update={"warnings": (*result.warnings, note)})


# settings.policy_path of a plan solved on a catalog of one's own without --policy.
def _note_bars(inputs, min_quality: float | None = None):
    """Say on stderr when the baseline's own quality sets the bars (router_opt.plan.load_inputs)."""
    from router_opt.plan import bars_note

    note = bars_note(inputs, min_quality)
    if note is not None:
        typer.echo(f"note: {note}", err=True)
    return inputs, note


@app.command()
@_handled
def optimize(
    catalog: CatalogOption = None,
    workload: WorkloadOption = None,
    sheet: SheetOption = None,
    header_row: HeaderRowOption = None,
    map_: MapOption = None,
    policy: PolicyOption = None,
    mode: ModeOption = Mode.STRICT,
    objective: ObjectiveOption = Objective.COST,
    min_quality: MinQualityOption = None,
    top: Annotated[int, typer.Option(min=0, help="How many highest-volume tasks to list.")] = 10,
    explain: ExplainOption = False,
    with_frontier: PlanFrontierOption = False,
    actual: ActualOption = None,
    output_format: Annotated[
        PlanFormat,
        typer.Option(
            "--format",
            "-f",
            help=PLAN_FORMATS.help,
        ),
    ] = PlanFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
    solver: SolverOption = "auto",
    time_limit: TimeLimitOption = None,
    confidence: ConfidenceOption = None,
) -> None:
    """Solve for the cheapest routing plan and report the overspend of the all-large habit.

    Quality bars: a row's own min_quality, else --min-quality, else the policy. Without --policy the
    bundled catalog takes the bundled policies/default.yaml; a catalog of one's own takes, for each
    task type, the baseline model's own quality on it (said on stderr and in the plan's warnings)."""
    from router_opt.report import render

    PLAN_FORMATS.require_output(output_format.value, output)
    from router_opt.plan import load_inputs

    inputs, bar_note = _note_bars(
        load_inputs(catalog, workload, policy, _workload_options(sheet, header_row, map_)), min_quality
    )
    settings = {"mode": mode, "min_quality": min_quality, "solver": solver, "time_limit_seconds": time_limit}
    with _working("Optimising the routing plan"):
        # Decision records are a third of a large run and half its JSON: made only when shown.
        result = _robust_plan(inputs, confidence, objective=objective, decisions=explain, actual=actual, **settings)
    if with_frontier:
        from router_opt.analyses.frontier import frontier

        with _progress("Sweeping the quality bar") as on_step:
            curve = frontier(inputs, mode=mode, solver=solver, on_step=on_step)
        result = result.model_copy(update={"frontier": curve})
    if bar_note is not None:
        result = result.model_copy(update={"warnings": (bar_note, *result.warnings)})
    _emit(render(result, output_format.value, top=top, explain=explain), output)


@app.command()
@_handled
def validate(
    files: Annotated[list[Path], typer.Argument(help="Catalog, workload and policy files, in any order.")],
    catalog: Annotated[
        Path | None,
        typer.Option(
            "--catalog", "-c", help="Catalog to check workloads against when none is among FILES (default: bundled)."
        ),
    ] = None,
    sheet: SheetOption = None,
    header_row: HeaderRowOption = None,
    map_: MapOption = None,
) -> None:
    """Check files without solving: formats, fields, and (for workloads) task types and thresholds
    against a catalog."""
    from router_opt.validate_files import check_files

    result = check_files(
        files,
        catalog,
        _workload_options(sheet, header_row, map_),
        on_checked=lambda path, against: typer.echo(f"checked {path} against catalog {against}", err=True),
    )
    for path, kind, summary in result.ok:
        typer.echo(f"ok  {path}  ({kind}: {summary})")
    result.raise_problems()


@app.command()
@_handled
def diff(
    old: Annotated[Path, typer.Argument(help="A plan saved with `optimize --format json`.")],
    new: Annotated[Path, typer.Argument(help="Another plan to compare with OLD.")],
    output_format: Annotated[DiffFormat, typer.Option("--format", "-f", help=SECTION_FORMATS.help)] = DiffFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Compare two saved plans: per-department change in $/day and overspend, with totals."""
    from router_opt.diff import diff_results, load_result
    from router_opt.report import diff_sections, render_sections

    result = diff_results(load_result(old), load_result(new), str(old), str(new))
    if output_format is DiffFormat.json:
        _emit(result.model_dump_json(indent=2) + "\n", output)
    else:
        _emit(render_sections(diff_sections(result), output_format.value), output)


class PolicyFormat(StrEnum):
    litellm = "litellm"
    json = "json"


@app.command("export-policy")
@_handled
def export_policy(
    catalog: CatalogOption = None,
    workload: WorkloadOption = None,
    sheet: SheetOption = None,
    header_row: HeaderRowOption = None,
    map_: MapOption = None,
    policy: PolicyOption = None,
    plan: Annotated[
        Path | None,
        typer.Option("--plan", help="Export a plan saved with `optimize -f json --explain` instead of solving again."),
    ] = None,
    mode: Annotated[Mode, typer.Option(help="strict, blended or single (when solving).")] = Mode.STRICT,
    output_format: Annotated[
        PolicyFormat,
        typer.Option("--format", "-f", help="litellm: a LiteLLM proxy config.yaml; json: a neutral policy."),
    ] = PolicyFormat.litellm,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """The plan as configuration a gateway loads: task -> models with shares, fallbacks in order.

    Only what the plan runs is named: a self-hosted deployment it does not provision is in no route,
    fallback or model_list entry, and fallbacks are the next different models. Keys come from the
    environment: <PROVIDER>_API_KEY for API models; each self-hosted model its own <MODEL>_API_BASE and
    <MODEL>_API_KEY (the config's header lists every variable it reads)."""
    import json

    from router_opt.export import litellm_yaml, to_policy

    if plan is not None:
        from router_opt.diff import load_result

        if any(v is not None for v in (catalog, workload, policy)) or mode is not Mode.STRICT:
            raise RouterOptError(
                "--plan exports a saved plan as it is: drop --catalog/--workload/--policy/--mode, or drop --plan to solve"
            )
        result = load_result(plan)
        if result.decisions is None:
            raise RouterOptError(
                f"{plan}: the saved plan has no decision records (fallbacks): save it with "
                "`router-opt optimize -f json --explain`"
            )
    else:
        from router_opt.plan import optimize as run_optimize

        with _working("Optimising the routing plan"):
            result = run_optimize(
                catalog, workload, policy, mode=mode, workload_options=_workload_options(sheet, header_row, map_)
            )
    if output_format is PolicyFormat.json:
        _emit(json.dumps(to_policy(result), indent=2) + "\n", output)
    else:
        _emit(litellm_yaml(result), output)


@catalog_app.command("show")
@_handled
def catalog_show(
    catalog: CatalogOption = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help=CATALOG_FORMATS.help)
    ] = OutputFormat.table,
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


# --- economics commands (issue 4) ---
# Each command parses options, calls one function of router_opt.analyses, and renders the result with
# router_opt.report.analyses. Their results are summaries, not per-task plans, so they render as table,
# json or markdown only (hence their own format choice rather than the plan's).


AnalysisFormat = ANALYSIS_FORMATS.choices("AnalysisFormat")
AnalysisFormatOption = Annotated[AnalysisFormat, typer.Option("--format", "-f", help=ANALYSIS_FORMATS.help)]
AnalysisOutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
]
AnalysisModeOption = Annotated[Mode, typer.Option(help="Routing mode for every re-optimisation, as for optimize.")]
AnalysisSolverOption = Annotated[str, typer.Option(help="LP solver for every re-optimisation, as for optimize.")]


def _render_analysis(result, output_format: AnalysisFormat, output: Path | None) -> None:
    from router_opt.report.analyses import render_analysis

    _emit(render_analysis(result, output_format.value), output)


@app.command("frontier")
@_handled
def frontier_command(
    catalog: CatalogOption = None,
    workload: WorkloadOption = None,
    sheet: SheetOption = None,
    header_row: HeaderRowOption = None,
    map_: MapOption = None,
    policy: PolicyOption = None,
    low: Annotated[
        float | None,
        typer.Option(
            "--from",
            help="Lowest quality bar. Default: the lowest quality any model offers for the workload's task types.",
        ),
    ] = None,
    high: Annotated[
        float | None,
        typer.Option("--to", help="Highest quality bar. Default: the highest bar every task can still meet."),
    ] = None,
    points: Annotated[int, typer.Option(min=2, help="Evenly spaced bars from --from to --to.")] = 19,
    mode: AnalysisModeOption = Mode.STRICT,
    solver: AnalysisSolverOption = "auto",
    output_format: AnalysisFormatOption = AnalysisFormat.table,
    output: AnalysisOutputOption = None,
) -> None:
    """What does each step of quality cost? Sweeps one quality bar for every task (as --min-quality
    does), re-optimises at each, and prints $/day for the enterprise and each department, the share
    routed away from the baseline, the quality retained, and the area under the cost-quality curve.
    Stops, and says so, at the first bar no plan can meet. With budgets in the policy,
    `router-opt frontier-budget` sweeps the budget instead."""
    from router_opt.analyses.frontier import frontier
    from router_opt.plan import load_inputs

    with _progress("Sweeping the quality bar") as on_step:
        result = frontier(
            _note_bars(load_inputs(catalog, workload, policy, _workload_options(sheet, header_row, map_)))[0],
            low=low,
            high=high,
            points=points,
            mode=mode,
            solver=solver,
            on_step=on_step,
        )
    _render_analysis(result, output_format, output)


@app.command("frontier-budget")
@_handled
def frontier_budget_command(
    catalog: CatalogOption = None,
    workload: WorkloadOption = None,
    sheet: SheetOption = None,
    header_row: HeaderRowOption = None,
    map_: MapOption = None,
    policy: PolicyOption = None,
    factors: Annotated[
        str | None,
        typer.Option(
            "--factors",
            help="Comma-separated budget multiples, e.g. 0.5,1,2. Default: from the factor at which the cheapest "
            "plan just fits to the one beyond which no budget binds, spaced geometrically, plus 1.",
        ),
    ] = None,
    points: Annotated[int, typer.Option(min=2, help="Points of the default grid (without --factors).")] = 15,
    mode: AnalysisModeOption = Mode.STRICT,
    solver: AnalysisSolverOption = "auto",
    output_format: AnalysisFormatOption = AnalysisFormat.table,
    output: AnalysisOutputOption = None,
) -> None:
    """What quality does each level of budget buy? Scales every budget of the policy
    (budgets_usd_per_day, total_budget_usd_per_day) by a factor, re-optimises with --objective quality
    at each, and prints budget, plan $/day, plan quality, quality retained and binding budgets for the
    enterprise and each department. A command of its own rather than `frontier --budget`: its axis is a
    budget multiple, not a quality bar, and its objective is quality, not cost. Needs a policy with
    budgets, e.g. -p examples/constraints/budget.yaml. Factors at which no plan fits are skipped, with a note."""
    from router_opt.analyses.budget_frontier import frontier_by_budget
    from router_opt.bundled import EXAMPLE_BUDGET_POLICY, bundled_path
    from router_opt.plan import load_inputs

    grid = None
    if factors is not None:
        try:
            grid = [float(f) for f in _split(factors) or []]
        except ValueError:
            raise RouterOptError(f"--factors takes comma-separated numbers, got {factors!r}") from None
        if not grid:
            raise RouterOptError("--factors needs at least one number")
    with _progress("Sweeping the budget") as on_step:
        result = frontier_by_budget(
            load_inputs(
                catalog,
                workload,
                policy or (bundled_path(EXAMPLE_BUDGET_POLICY) if workload is None else None),
                _workload_options(sheet, header_row, map_),
            ),
            factors=grid,
            points=points,
            mode=mode,
            solver=solver,
            on_step=on_step,
        )
    _render_analysis(result, output_format, output)


class ReasoningSource(StrEnum):
    catalog = "catalog"
    table = "table"


@app.command("reasoning")
@_handled
def reasoning_command(
    source: Annotated[
        ReasoningSource,
        typer.Option(
            help="catalog: compare two models of the catalog per task type; table: a multiplier table (--table)."
        ),
    ] = ReasoningSource.catalog,
    table: Annotated[
        Path | None,
        typer.Option(
            "--table",
            help="Multiplier table YAML for --source table. Default: the seed's table (catalogs/economics/reasoning-multiplier-2025.yaml).",
        ),
    ] = None,
    catalog: CatalogOption = None,
    workload: WorkloadOption = None,
    sheet: SheetOption = None,
    header_row: HeaderRowOption = None,
    map_: MapOption = None,
    reasoning_model: Annotated[
        str | None,
        typer.Option(help="Catalog model id on the reasoning side. Default: the first Reasoning-tier model."),
    ] = None,
    instruct_model: Annotated[
        str | None, typer.Option(help="Catalog model id on the instruct side. Default: the first Instruct-tier model.")
    ] = None,
    reasoning_token_multiplier: Annotated[
        float,
        typer.Option(
            min=0,
            help="Tokens the reasoning model spends per call relative to the task's (e.g. 3 with thinking tokens).",
        ),
    ] = 1.0,
    instruct_token_multiplier: Annotated[
        float, typer.Option(min=0, help="Tokens the instruct model spends per call relative to the task's.")
    ] = 1.0,
    output_format: AnalysisFormatOption = AnalysisFormat.table,
    output: AnalysisOutputOption = None,
) -> None:
    """When does a reasoning model earn its price? Per task type: quality gain over the instruct model
    (relative), cost multiple, RM = gain % / cost multiple, and a verdict (Never, Marginal, Hard only, Buy,
    Strong buy, Essential). `--source table` reproduces the seed's table."""
    from router_opt.analyses.reasoning import load_multiplier_table, reasoning_from_catalog, reasoning_from_table

    if source is ReasoningSource.table:
        result = reasoning_from_table(load_multiplier_table(table))
    else:
        from router_opt.plan import load_inputs

        inputs = load_inputs(catalog, workload, workload_options=_workload_options(sheet, header_row, map_))
        result = reasoning_from_catalog(
            inputs.catalog,
            inputs.workload,
            reasoning_model=reasoning_model,
            instruct_model=instruct_model,
            reasoning_token_multiplier=reasoning_token_multiplier,
            instruct_token_multiplier=instruct_token_multiplier,
        )
    _render_analysis(result, output_format, output)


@app.command("trajectory")
@_handled
def trajectory_command(
    catalog: CatalogOption = None,
    workload: WorkloadOption = None,
    sheet: SheetOption = None,
    header_row: HeaderRowOption = None,
    map_: MapOption = None,
    policy: PolicyOption = None,
    prices: Annotated[
        Path | None,
        typer.Option(
            "--prices",
            help="Price trajectory YAML. Default: the seed's (catalogs/economics/price-trajectory-2024-2030.yaml).",
        ),
    ] = None,
    first_year: Annotated[int, typer.Option("--from-year", help="First year.")] = 2024,
    last_year: Annotated[int, typer.Option("--to-year", help="Last year.")] = 2030,
    base_year: Annotated[
        int | None, typer.Option(help="Year the catalog's prices are for. Default: the year of its prices_as_of.")
    ] = None,
    task_tokens: Annotated[
        float | None,
        typer.Option(min=0, help="Also show one call of this many tokens (input + output) by year, on --task-tier."),
    ] = None,
    task_tier: Annotated[str | None, typer.Option(help="Tier for --task-tokens, e.g. Fine-Tuned.")] = None,
    cheap_usd: Annotated[
        float, typer.Option(min=0, help="The $/invocation below which a task counts as cheap (the seed's $0.001).")
    ] = 0.001,
    mode: AnalysisModeOption = Mode.STRICT,
    solver: AnalysisSolverOption = "auto",
    output_format: AnalysisFormatOption = AnalysisFormat.table,
    output: AnalysisOutputOption = None,
) -> None:
    """What does the plan cost as prices fall? Re-prices every model along its tier's trajectory for
    each year and re-optimises: $/day, $/worker/day, overspend and the share of tasks under $0.001 a call."""
    from router_opt.analyses.trajectory import load_price_trajectory, trajectory
    from router_opt.errors import RouterOptError
    from router_opt.plan import load_inputs

    if last_year < first_year:
        raise RouterOptError(f"--to-year {last_year} is before --from-year {first_year}")
    with _progress("Re-optimising each year") as on_step:
        result = trajectory(
            _note_bars(load_inputs(catalog, workload, policy, _workload_options(sheet, header_row, map_)))[0],
            prices=load_price_trajectory(prices),
            years=range(first_year, last_year + 1),
            base_year=base_year,
            mode=mode,
            solver=solver,
            cheap_usd_per_invocation=cheap_usd,
            task_tokens=task_tokens,
            task_tier=task_tier,
            on_step=on_step,
        )
    _render_analysis(result, output_format, output)


@app.command("breakeven")
@_handled
def breakeven_command(
    catalog: CatalogOption = None,
    workload: WorkloadOption = None,
    sheet: SheetOption = None,
    header_row: HeaderRowOption = None,
    map_: MapOption = None,
    api_model: Annotated[
        str | None,
        typer.Option(
            help="API to beat: a catalog model id (default: the catalog's baseline) or one of the seed's API models (claude-sonnet, gpt-4o-mini, deepseek-v3, gemini-flash-lite)."
        ),
    ] = None,
    api_usd_per_mtok: Annotated[
        float | None, typer.Option(min=0, help="API price per million tokens, instead of --api-model's.")
    ] = None,
    gpu: Annotated[
        str | None, typer.Option(help="GPU to self-host on: L40S (default), H100-SXM, A100-80GB, ...")
    ] = None,
    serving_model: Annotated[
        str | None,
        typer.Option(
            help="Model size whose measured throughput to use, when the GPU has several (e.g. 14B on A100-80GB)."
        ),
    ] = None,
    usd_per_gpu_hour: Annotated[
        float | None, typer.Option(min=0, help="GPU rental $/hour (default: the seed's price).")
    ] = None,
    tokens_per_second: Annotated[
        float | None, typer.Option(min=0, help="Serving throughput per GPU (default: the seed's vLLM figure).")
    ] = None,
    utilisation: Annotated[
        float | None, typer.Option(min=0, max=1, help="Share of the day a GPU serves at full throughput (default 0.5).")
    ] = None,
    overhead: Annotated[
        float | None, typer.Option(min=0, help="Cost on top of GPU rental, as a share (default 0.15 = 15%).")
    ] = None,
    tokens_per_day: Annotated[
        float | None, typer.Option(min=0, help="Daily volume for the monthly figures (default: the workload's).")
    ] = None,
    days_per_month: Annotated[
        float | None,
        typer.Option(
            min=1,
            help="Days in a month (default 365/12, a twelfth of a 365-day year; 30 reproduces the seed's months). "
            "A year is 12 months.",
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", help="Self-hosting data YAML. Default: the seed's (catalogs/economics/self-hosting-2026.yaml)."
        ),
    ] = None,
    output_format: AnalysisFormatOption = AnalysisFormat.table,
    output: AnalysisOutputOption = None,
) -> None:
    """When does self-hosting beat the API? Self-hosted $/M from GPU price, throughput, utilisation and
    overhead; the daily volume above which one GPU is cheaper than the API; and the monthly saving (or
    loss) at the workload's volume."""
    from router_opt.analyses.breakeven import breakeven, load_self_hosting
    from router_opt.plan import load_inputs

    inputs = load_inputs(catalog, workload, workload_options=_workload_options(sheet, header_row, map_))
    result = breakeven(
        inputs.catalog,
        inputs.workload,
        api_model=api_model,
        api_usd_per_mtok=api_usd_per_mtok,
        gpu=gpu,
        serving_model=serving_model,
        usd_per_gpu_hour=usd_per_gpu_hour,
        tokens_per_second=tokens_per_second,
        utilisation=utilisation,
        overhead=overhead,
        tokens_per_day=tokens_per_day,
        days_per_month=days_per_month,
        data=load_self_hosting(data),
    )
    _render_analysis(result, output_format, output)


def _number(help: str, low: float = 0, high: float | None = None):
    """An optional number option of at least `low` (and at most `high`)."""
    return Annotated[float | None, typer.Option(min=low, max=high, help=help)]


@app.command("training-cost")
@_handled
def training_cost_command(
    gpus: Annotated[int | None, typer.Option(min=1, help="GPUs in the run (default: seed 004's 32).")] = None,
    gpu: Annotated[str | None, typer.Option(help="GPU type, for the FLOPs estimate's peak (default H100-SXM).")] = None,
    usd_per_gpu_hour: _number("$ per GPU-hour (default: seed 004's $6).") = None,
    hours: _number("Hours of work at full utilisation (default: seed 004's 72).") = None,
    overhead: _number("Overhead as a share of compute (default 0.15 = 15%).") = None,
    utilisation: _number("Share of billed GPU time doing work (default 1).", high=1) = None,
    slower_run_factor: _number("Slower-run case: hours x this (default 1.25).", low=1) = None,
    retry_runs: _number("Retry case: repeats of the base run (default 1).") = None,
    parameters: _number("Model parameters (e.g. 7e9): hours from FLOPs = 6 x N x D instead of --hours.") = None,
    tokens: _number("Training tokens (e.g. 8e12), with --parameters.") = None,
    mfu: _number("Model FLOP utilisation (default 0.425, the seed's 35-50% midpoint).", high=1) = None,
    peak_tflops: _number("Peak dense TFLOP/s per GPU (default: the GPU's datasheet figure).") = None,
    fine_tune_usd: _number("Payback: one-time fine-tuning cost (default: the seed's $100).") = None,
    data_prep_usd: _number("Payback: one-time data preparation cost (default: the seed's $4,000).") = None,
    serving_usd_per_month: _number("Payback: serving cost per month (default: the seed's $1,620 L40S month).") = None,
    api_usd_per_month: _number("Payback: API bill replaced per month (default: the seed's stated $45,000).") = None,
    task_type: Annotated[
        list[str] | None,
        typer.Option(
            "--task-type",
            help="Payback: price the API bill as the workload's tasks of this type (repeatable) on --api-model.",
        ),
    ] = None,
    api_model: Annotated[
        str | None, typer.Option(help="Payback: catalog model the task family runs on today (default: the baseline).")
    ] = None,
    catalog: CatalogOption = None,
    workload: WorkloadOption = None,
    sheet: SheetOption = None,
    header_row: HeaderRowOption = None,
    map_: MapOption = None,
    horizon_months: Annotated[int, typer.Option(min=1, help="Payback: months to total the net saving over.")] = 12,
    examples: Annotated[
        Path | None,
        typer.Option(
            "--examples",
            help="Training-cost data YAML. Default: the seed's (catalogs/economics/training-cost-example.yaml).",
        ),
    ] = None,
    output_format: AnalysisFormatOption = AnalysisFormat.table,
    output: AnalysisOutputOption = None,
) -> None:
    """What does a training run cost, and does fine-tuning pay back? Base, slower-run and retry budgets
    (GPUs x $/GPU-hour x hours + overhead; or hours from 6 x parameters x tokens FLOPs), and months for a
    fine-tuned model's saving to repay its one-time cost."""
    from router_opt.analyses.training import load_training_examples, training_report

    inputs = None
    if task_type:
        from router_opt.plan import load_inputs

        inputs = load_inputs(catalog, workload, workload_options=_workload_options(sheet, header_row, map_))
    result = training_report(
        load_training_examples(examples),
        gpus=gpus,
        gpu=gpu,
        usd_per_gpu_hour=usd_per_gpu_hour,
        hours=hours,
        overhead=overhead,
        utilisation=utilisation,
        slower_run_factor=slower_run_factor,
        retry_runs=retry_runs,
        parameters=parameters,
        tokens=tokens,
        mfu=mfu,
        peak_tflops=peak_tflops,
        fine_tune_usd=fine_tune_usd,
        data_prep_usd=data_prep_usd,
        serving_usd_per_month=serving_usd_per_month,
        api_usd_per_month=api_usd_per_month,
        task_types=tuple(task_type or ()),
        api_model=api_model,
        catalog=inputs.catalog if inputs else None,
        workload=inputs.workload if inputs else None,
        horizon_months=horizon_months,
    )
    _render_analysis(result, output_format, output)


# --- importers (issue 6) ---
# Real data in: catalogs from price maps (genai-prices, LiteLLM, Arena), quality from eval results and
# Arena ratings, workloads from request logs. Each command parses options and calls
# router_opt.importers; what a person should know about the import goes to stderr as `note:` lines.

workload_app = typer.Typer(help="Build workloads from real data (request logs).", no_args_is_help=True)
quality_app = typer.Typer(help="Build quality files from eval results and Arena ratings.", no_args_is_help=True)
app.add_typer(workload_app, name="workload")
app.add_typer(quality_app, name="quality")


class PriceSourceKind(StrEnum):
    genai_prices = "genai-prices"
    litellm = "litellm"
    arena = "arena"


class QualityUse(StrEnum):
    mean = "mean"
    lower_bound = "lower-bound"


def _notes(lines: list[str] | tuple[str, ...]) -> None:
    for line in lines:
        typer.echo(f"note: {line}", err=True)


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    parts = [p.strip() for p in value.split(",") if p.strip()]
    return parts or None


def _date(value: str | None, option: str):
    if value is None:
        return None
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RouterOptError(f"{option} {value}: expected a date YYYY-MM-DD") from None


AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Price date YYYY-MM-DD. genai-prices: the date whose prices are taken (default today); "
        "LiteLLM/Arena files: the date recorded (default the file's modification date).",
    ),
]
ProvidersOption = Annotated[
    str | None,
    typer.Option(
        help="Comma-separated providers: genai-prices ids (default: openai, anthropic, google, mistral, deepseek, "
        "x-ai, cohere, moonshotai, zai, minimax; `all` for every one) or LiteLLM's litellm_provider values."
    ),
]
UseOption = Annotated[
    QualityUse,
    typer.Option(
        help="mean: accuracy (evals) or rating (Arena); lower-bound: the Wilson lower bound (evals) or rating_q025 (Arena)."
    ),
]
ArenaMapOption = Annotated[
    Path | None,
    typer.Option(
        "--arena-map", help="Task type -> Arena category YAML. Default: the bundled catalogs/arena-task-types.yaml."
    ),
]


@catalog_app.command("import")
@_handled
def catalog_import(
    source: Annotated[
        PriceSourceKind,
        typer.Option(
            "--from",
            help="genai-prices (the installed package's bundled snapshot, offline), litellm (a price-map JSON file) or arena (the Arena catalog folder).",
        ),
    ],
    path: Annotated[
        Path | None,
        typer.Argument(help="The LiteLLM price-map JSON (--from litellm) or the Arena catalog folder (--from arena)."),
    ] = None,
    providers: ProvidersOption = None,
    models: Annotated[
        str | None, typer.Option(help="Only model ids matching this regular expression (searched, case-insensitive).")
    ] = None,
    tiers: Annotated[
        Path | None,
        typer.Option(
            "--tiers",
            help="Tier mapping YAML (rules, then price bands). Default: the bundled catalogs/tier-mapping.yaml.",
        ),
    ] = None,
    quality: Annotated[
        Path | None,
        typer.Option(
            "--quality",
            help="Quality file from `router-opt quality import`. Models it does not rate are left out (listed). --from arena: default its own ratings.",
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            help="Baseline model id. Default: the dearest (blended 3:1 $/M) of the models rating the most task types."
        ),
    ] = None,
    as_of: AsOfOption = None,
    name: Annotated[str | None, typer.Option(help="Catalog name (default from the source).")] = None,
    use: UseOption = QualityUse.mean,
    arena_map: ArenaMapOption = None,
    include_deprecated: Annotated[
        bool, typer.Option("--include-deprecated", help="genai-prices: keep models it marks deprecated.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the catalog YAML here instead of stdout.")
    ] = None,
) -> None:
    """Build a catalog from real price data: genai-prices, a LiteLLM price map or the Arena files.
    Models are placed in tiers by the mapping file; quality comes from --quality (or, for Arena, its
    ratings); models without quality are left out and named."""
    from router_opt.importers.run import import_catalog

    imported = import_catalog(
        source.value,
        path,
        providers=_split(providers),
        models=models,
        tiers=tiers,
        quality=quality,
        baseline=baseline,
        as_of=_date(as_of, "--as-of"),
        name=name,
        use=use.value,
        arena_map=arena_map,
        include_deprecated=include_deprecated,
    )
    _notes(imported.notes)
    _emit(imported.yaml_text, output)


@catalog_app.command("check")
@_handled
def catalog_check(
    a: Annotated[
        str,
        typer.Argument(
            help="A price source: a catalog YAML, a LiteLLM price map (.json), an Arena folder, or `genai-prices`."
        ),
    ],
    b: Annotated[str, typer.Argument(help="Another price source, as A.")],
    tolerance: Annotated[
        float,
        typer.Option(
            min=0, help="List models whose input or output price differs by more than this share (|A-B| / max(A, B))."
        ),
    ] = 0.05,
    providers: ProvidersOption = None,
    as_of: AsOfOption = None,
    output_format: Annotated[
        PriceCheckFormat, typer.Option("--format", "-f", help=PRICE_CHECK_FORMATS.help)
    ] = PriceCheckFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Where do two price sources disagree? Joins them on model id (lower case, provider prefix and,
    where unambiguous, trailing date dropped) and on host (the same model resold elsewhere is not
    compared), and lists the models whose input or output price differs by more than the tolerance,
    with both prices and each side's provider. --providers takes either source's names (google or
    gemini, aws or bedrock) and selects the same hosts in both."""
    from router_opt.importers.check import check_prices, load_price_table, render_check

    day = _date(as_of, "--as-of")
    result = check_prices(
        load_price_table(a, _split(providers), day), load_price_table(b, _split(providers), day), tolerance
    )
    _emit(render_check(result, output_format.value), output)


@quality_app.command("import")
@_handled
def quality_import(
    evals: Annotated[
        Path | None,
        typer.Option(
            "--evals",
            help="Eval results CSV: a task-type column and one column per model (1/0 or a score in [0, 1]), one row per prompt.",
        ),
    ] = None,
    arena: Annotated[
        Path | None,
        typer.Option(
            "--arena", help="The Arena catalog folder (leaderboard-text.json): ratings per category, elo scale."
        ),
    ] = None,
    use: UseOption = QualityUse.mean,
    confidence: Annotated[
        float, typer.Option(min=0.5, max=0.999, help="Evals: confidence of the Wilson interval.")
    ] = 0.95,
    task_type_column: Annotated[
        str | None, typer.Option(help="Evals: the task-type column (default: task_type, category or task).")
    ] = None,
    models: Annotated[
        str | None, typer.Option(help="Evals: comma-separated model columns (default: every 1/0 or [0, 1] column).")
    ] = None,
    arena_map: ArenaMapOption = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the quality YAML here instead of stdout.")
    ] = None,
) -> None:
    """Per-model quality per task type, as a quality file for `catalog import --quality`: from eval
    results (accuracy, count and Wilson lower bound, on 0-100) or Arena ratings (elo scale)."""
    from router_opt.importers.run import import_quality

    imported = import_quality(
        evals,
        arena,
        use=use.value,
        confidence=confidence,
        task_type_column=task_type_column,
        models=_split(models),
        arena_map=arena_map,
    )
    _notes(imported.notes)
    _emit(imported.yaml_text, output)


WorkersOption = Annotated[
    int | None,
    typer.Option("--workers", "-j", min=1, help="Local worker processes (default: one per CPU; 1: in this process)."),
]


def _log_mapping(items: list[str] | None) -> dict[str, str]:
    """A request log's `--map FIELD=COLUMN` options as {field: column} (from-logs, drift)."""
    mapping: dict[str, str] = {}
    for item in items or []:
        field, sep, column = item.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise RouterOptError(f"--map {item}: expected FIELD=COLUMN, e.g. --map task_type=label")
        mapping[field.strip()] = column.strip()
    return mapping


@workload_app.command("from-logs")
@_handled
def workload_from_logs_command(
    logs: Annotated[
        list[Path], typer.Argument(help="Request logs: CSV, JSONL or Parquet files (or quoted glob patterns).")
    ],
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="FIELD=COLUMN: read FIELD (timestamp, department, role, user, task_type, model, input_tokens, output_tokens) from COLUMN. Repeatable.",
        ),
    ] = None,
    users_column: Annotated[str | None, typer.Option(help="Column of the user id (same as --map user=COLUMN).")] = None,
    days: Annotated[
        int | None, typer.Option(min=1, help="Days the log covers (default: distinct calendar days, UTC, in the log).")
    ] = None,
    current_routing: Annotated[
        Path | None,
        typer.Option(
            "--current-routing",
            help="Also write the routing the log shows: per task, each model's share of requests (CSV).",
        ),
    ] = None,
    memory_limit: Annotated[str, typer.Option(help="DuckDB memory limit (it spills to disk past it).")] = "1GB",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the workload CSV here instead of stdout.")
    ] = None,
) -> None:
    """Aggregate request logs into a workload: per department, role and task type, invocations per
    worker per day, headcount (distinct users of the role) and mean tokens."""
    from router_opt.importers.logs import routing_csv, workload_csv
    from router_opt.importers.run import workload_from_request_logs

    mapping = _log_mapping(map_)
    if users_column:
        mapping["user"] = users_column
    with _working("Reading the logs"):
        result = workload_from_request_logs(logs, mapping, days=days, memory_limit=memory_limit)
    _notes(result.notes)
    if current_routing is not None:
        if not result.routing_rows:
            raise RouterOptError("--current-routing: the logs have no model column (name it with --map model=COLUMN)")
        _emit(routing_csv(result), current_routing)
    _emit(workload_csv(result), output)


@app.command("ranges")
@_handled
def ranges_command(
    catalog: CatalogOption = None,
    workload: WorkloadOption = None,
    sheet: SheetOption = None,
    header_row: HeaderRowOption = None,
    map_: MapOption = None,
    policy: PolicyOption = None,
    draws: Annotated[int, typer.Option(min=1, help="How many draws of the uncertain inputs.")] = 1000,
    seed: Annotated[int, typer.Option(min=0, help="Seed: the same seed gives the same figures.")] = 0,
    volume_range: Annotated[
        str,
        typer.Option(
            "--volume-range", help="LOW,HIGH: each draw multiplies every task's volume by one uniform factor in it."
        ),
    ] = "1,1",
    mode: AnalysisModeOption = Mode.STRICT,
    min_quality: Annotated[
        float | None,
        typer.Option(help="Quality bar for every task without its own min_quality (overrides the policy)."),
    ] = None,
    top: Annotated[int, typer.Option(min=0, help="Tasks to list, least likely to meet the bar first (0: all).")] = 20,
    solver: AnalysisSolverOption = "auto",
    workers: WorkersOption = None,
    actual: Annotated[
        Path | None,
        typer.Option(
            "--actual",
            help="Today's routing (as `optimize --actual`): its $/day and the savings against it, per draw.",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Run the draws on this Dask distributed scheduler (tcp://host:8786; default: "
            "$DASK_SCHEDULER_ADDRESS when set). Needs the cluster extra. Same seed, same figures anywhere.",
        ),
    ] = None,
    output_format: AnalysisFormatOption = AnalysisFormat.table,
    output: AnalysisOutputOption = None,
) -> None:
    """Savings as a range: draw quality (the catalog's quality_interval, a normal clipped to the scale),
    prices (input/output_usd_per_mtok_range, uniform) and volume (--volume-range), re-optimise each
    draw, and print P10/P50/P90 of optimal $/day, savings against all-large and the overspend
    multiple; the nominal plan's own $/day under the draws; per task the chance that the nominal
    plan's model meets its bar. Draw k uses the seed and k alone: reruns give the same figures."""
    from router_opt.plan import load_inputs
    from router_opt.report.scenarios import render_ranges
    from router_opt.uncertainty import ranges

    low, sep, high = volume_range.partition(",")
    try:
        bounds = (float(low), float(high))
    except ValueError:
        raise RouterOptError(f"--volume-range {volume_range}: expected LOW,HIGH, e.g. 0.8,1.2") from None
    if not sep:
        raise RouterOptError(f"--volume-range {volume_range}: expected LOW,HIGH, e.g. 0.8,1.2")
    inputs = _note_bars(
        load_inputs(catalog, workload, policy, _workload_options(sheet, header_row, map_)), min_quality
    )[0]
    from functools import partial

    from router_opt.parallel import run_map

    with _progress("Drawing and re-optimising") as on_step:
        # Draws go out in chunks (each worker re-optimises its draws one after another, warm-started);
        # every draw carries its own seed, so the pool, a cluster and one process agree exactly.
        result = ranges(
            inputs,
            draws=draws,
            seed=seed,
            volume_range=bounds,
            mode=mode,
            min_quality=min_quality,
            solver=solver,
            map_fn=partial(run_map, workers=workers, scheduler=scheduler, progress=on_step),
            actual_routing=actual,
        )
    _emit(render_ranges(result, output_format.value, top=top), output)


@app.command()
@_handled
def drift(
    plan: Annotated[Path, typer.Argument(help="A plan saved with `optimize -f json`.")],
    logs: Annotated[
        list[Path], typer.Argument(help="Request logs since: CSV, JSONL or Parquet files (as `workload from-logs`).")
    ],
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="FIELD=COLUMN, as `workload from-logs --map`. Repeatable."),
    ] = None,
    days: Annotated[int | None, typer.Option(min=1, help="Days the logs cover (default: distinct UTC days).")] = None,
    output_format: Annotated[DiffFormat, typer.Option("--format", "-f", help=SECTION_FORMATS.help)] = DiffFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """How far the gateway's real routing is from a saved plan: per task the share of requests sent
    off-plan, the $/day leaked against routing them as planned (at the plan's prices), and the models
    the logs use that the plan never named."""
    from router_opt.diff import load_result
    from router_opt.drift import drift as measure_drift
    from router_opt.report import render_sections
    from router_opt.report.scenarios import drift_sections

    mapping = _log_mapping(map_)
    saved = load_result(plan)
    with _working("Reading the logs"):
        result = measure_drift(saved, str(plan), logs, mapping, days=days)
    if output_format is DiffFormat.json:
        _emit(result.model_dump_json(indent=2) + "\n", output)
    else:
        _emit(render_sections(drift_sections(result), output_format.value), output)


@app.command("batch")
@_handled
def batch_command(
    clients: Annotated[
        list[str],
        typer.Argument(
            help="Client directories (each: catalog.yaml, workload.csv/.xlsx/.yaml, optional policy.yaml), "
            "a folder of them, or quoted glob patterns ('clients/*')."
        ),
    ],
    workers: WorkersOption = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Run on this Dask distributed scheduler (tcp://host:8786; default: $DASK_SCHEDULER_ADDRESS when set). "
            "Needs the cluster extra.",
        ),
    ] = None,
    output_format: Annotated[DiffFormat, typer.Option("--format", "-f", help=SECTION_FORMATS.help)] = DiffFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Optimise many clients at once (a local process pool, or a Dask cluster) and print one portfolio
    table: per client optimal vs all-large $/day, savings and overspend, with a TOTAL. A client that
    fails is listed with its error; the others still run, and the command exits 2."""
    import json

    from router_opt.parallel import client_directories, run_batch
    from router_opt.report import render_sections
    from router_opt.report.scenarios import batch_sections

    directories = client_directories(clients)
    with _progress("Optimising clients") as on_step:
        rows, total = run_batch(directories, workers=workers, scheduler=scheduler, progress=on_step)
    if output_format is DiffFormat.json:
        _emit(json.dumps({"clients": rows, "total": total}, indent=2) + "\n", output)
    else:
        _emit(render_sections(batch_sections(rows, total), output_format.value), output)
    if total["failed"]:
        _fail(f"error: {total['failed']} of {len(rows)} client(s) failed (see the table)", 2)


def entry_point() -> None:
    """The `router-opt` console script: run the command, then leave without tearing the interpreter
    down (router_opt.process.exit_now). Tests and `python -m` callers use `app` and exit normally."""
    from router_opt.process import exit_now

    try:
        app()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    exit_now(code)
