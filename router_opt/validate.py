"""Checks of the inputs before anything is solved: one small function per rule, its docstring saying
the rule.

- `check_*` functions raise: an `InputError` naming file, line and field, or a `RouterOptError` naming
  the parameter at fault (`min_quality`).
- The other rule functions return the problems they find (`Problem`s), so that the rules over one
  file report together: `check_policy_names` runs those about names in the policy and the workload.
- `router_opt.validate_files.check_files` is `router-opt validate`: every file loaded, each workload
  checked against a catalog through `build_problem` (so it lives apart: this module is below frame.py).

`router_opt.frame.build_problem` runs the rules in this order: `check_min_quality_finite`,
`check_task_types`, `check_policy_names`, `check_min_quality_on_scale`; then, once the arrays are
built, `check_servable`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from router_opt.constraints import FAMILIES
from router_opt.errors import InfeasibleError, InputError, Problem, RouterOptError, UnservableTask
from router_opt.models import Catalog, Policy, Workload, parse_regions

if TYPE_CHECKING:
    from router_opt.frame import RoutingProblem

Locator = Callable[[tuple], tuple[int | None, int | None]]
"""(line, column) of a key path in a YAML file; (None, None) where unknown."""


# --- naming what was meant ------------------------------------------------------------------------


def did_you_mean(name: str, close: str) -> str:
    """ " (did you mean 'x'?)", naming the characters of `name` that only look like those of `close`
    (a Cyrillic 'а' for a Latin 'a' is invisible in the message otherwise)."""
    import unicodedata

    def spelled(char: str) -> str:
        return f"U+{ord(char):04X} {unicodedata.name(char, 'an unnamed character')}"

    if len(name) == len(close):
        odd = [(a, b) for a, b in zip(name, close) if a != b and not a.isascii()]
        detail = "; ".join(f"{spelled(a)} where '{close}' has '{b}'" for a, b in dict.fromkeys(odd))
    else:
        detail = "; ".join(spelled(c) for c in dict.fromkeys(name) if not c.isascii() and c not in close)
    return f" (did you mean '{close}'? " + f"'{name}' holds {detail})" if detail else f" (did you mean '{close}'?)"


def policy_locator(policy: Policy) -> Locator:
    """(line, column) of a key path in the policy's file, or (None, None) when it has no file (or the
    file no longer parses)."""
    from router_opt.io.yaml_io import parse_yaml, yaml_locator

    try:
        return yaml_locator(parse_yaml(Path(policy.source_path)))
    except (InputError, OSError, TypeError):
        return lambda loc: (None, None)


class _LazyLocator:
    """`policy_locator(policy)`, parsed on first use: most policies have no problem to locate."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self.locate: Locator | None = None

    def __call__(self, loc: tuple) -> tuple[int | None, int | None]:
        if self.locate is None:
            self.locate = policy_locator(self.policy)
        return self.locate(loc)


def _unknown_name(
    policy: Policy, locate: Locator, key: str, name: str, known: Sequence[str], what: str, source: str
) -> Problem:
    """The policy names `name` under `key`, and `source` has no such `what`: a misspelling, located at
    the key itself and with the closest known name (ignoring case first) suggested."""
    import difflib

    close = [k for k in known if k.casefold() == name.casefold()] or difflib.get_close_matches(name, known, n=1)
    hint = did_you_mean(name, close[0]) if close else ""
    # "[key]" is in no mapping, so the position found is the key `name` itself, not its value.
    line, column = locate((key, name, "[key]"))
    return Problem(
        policy.source_path or "policy",
        f"no {what} '{name}' in the {source}{hint}; known: {', '.join(known) or 'none'}",
        line=line,
        column=column,
        field=f"{key}.{name}",
    )


def _workload_path(workload: Workload) -> str:
    return workload.source_path or workload.name


def _workload_line(workload: Workload, index: int) -> int | None:
    return workload.source_lines[index] if workload.source_lines else None


# --- the global bar -------------------------------------------------------------------------------


def check_min_quality_finite(min_quality: float | None) -> None:
    """A global quality bar, when given, is a finite number (NaN and infinities compare as no bar)."""
    if min_quality is not None and not np.isfinite(min_quality):
        raise RouterOptError(
            f"`min_quality` must be a finite number on the catalog's quality scale, got {min_quality}",
            option="min_quality",
        )


def check_min_quality_on_scale(min_quality: float | None, catalog: Catalog) -> None:
    """A global quality bar, when given, lies on the catalog's quality scale (off it, no model or
    every model meets it, whatever the models offer)."""
    scale = catalog.quality_scale
    if min_quality is not None and not scale.min <= min_quality <= scale.max:
        raise InputError.single(
            "`min_quality`",
            f"{min_quality:g} is outside the quality scale of catalog '{catalog.name}', "
            f"{scale.min:g}..{scale.max:g} ({scale.unit})",
            option="min_quality",
        )


# --- the workload against the catalog -------------------------------------------------------------


def unknown_task_types(catalog: Catalog, workload: Workload, columns: dict[str, list] | None = None) -> list[Problem]:
    """Every workload row's task type is one the catalog rates: one no model rates is almost always a
    typo, so each such row is named with the closest rated type and the list of rated ones."""
    import difflib

    columns = columns if columns is not None else workload.columns()
    known = set(catalog.task_types)
    if set(columns["task_type"]) <= known:
        return []
    problems = []
    for i, task_type in enumerate(columns["task_type"]):
        if task_type not in known:
            close = difflib.get_close_matches(task_type, sorted(known), n=1)
            hint = did_you_mean(task_type, close[0]) if close else ""
            problems.append(
                Problem(
                    _workload_path(workload),
                    f"unknown task type '{task_type}'{hint}; catalog '{catalog.name}' rates: "
                    + ", ".join(catalog.task_types),
                    line=_workload_line(workload, i),
                    field="task_type",
                )
            )
    return problems


def check_task_types(catalog: Catalog, workload: Workload, columns: dict[str, list] | None = None) -> None:
    """`unknown_task_types`, raised."""
    problems = unknown_task_types(catalog, workload, columns)
    if problems:
        raise InputError(problems)


def unknown_workload_regions(
    catalog: Catalog, workload: Workload, columns: dict[str, list] | None = None
) -> list[Problem]:
    """Every region a workload row allows is one some catalog model serves from (a misspelt region
    would leave the row no model at all); each row using an unknown one is named."""
    columns = columns if columns is not None else workload.columns()
    regions = _catalog_regions(catalog)
    known = set(regions)
    # Rows share a few distinct `region` texts: check each text once, then name every row using one.
    misnamed = {text for text in set(columns["region"]) - {None} if not parse_regions(text) <= known}
    problems = []
    for i, text in enumerate(columns["region"] if misnamed else ()):
        if text not in misnamed:
            continue
        for region in sorted(parse_regions(text)):
            if region not in known:
                problems.append(
                    Problem(
                        _workload_path(workload),
                        f"no model in catalog '{catalog.name}' serves region '{region}'; its models' regions: "
                        + (", ".join(regions) or "none declared"),
                        line=_workload_line(workload, i),
                        field="region",
                    )
                )
    return problems


def _catalog_regions(catalog: Catalog) -> list[str]:
    return sorted({r for m in catalog.models for r in (m.regions or ())})


# --- the policy against the workload and the catalog ----------------------------------------------


def unknown_policy_departments(
    policy: Policy, departments: Iterable[str], locate: Locator | None = None
) -> list[Problem]:
    """Every department the policy budgets (`budgets_usd_per_day`) or restricts to regions
    (`allowed_regions_by_department`) is one of the workload's: a rule for a department the workload
    lacks would silently do nothing."""
    known = sorted(set(departments))
    locate = locate or _LazyLocator(policy)
    return [
        _unknown_name(policy, locate, key, name, known, "department", "workload")
        for key, names in (
            ("budgets_usd_per_day", policy.budgets_usd_per_day),
            ("allowed_regions_by_department", policy.allowed_regions_by_department),
        )
        for name in names
        if name not in known
    ]


def unknown_policy_providers(policy: Policy, catalog: Catalog, locate: Locator | None = None) -> list[Problem]:
    """Every provider a provider-keyed policy section names (each constraint family's
    `provider_section`: vendor_caps, committed_spend; `*` means every provider) is one of the
    catalog's, spelled as the catalog spells it: a cap or a contract on a provider the catalog lacks
    would silently do nothing."""
    providers = sorted({m.provider for m in catalog.models})
    locate = locate or _LazyLocator(policy)
    return [
        _unknown_name(policy, locate, family.provider_section, name, providers, "provider", "catalog")
        for family in FAMILIES
        if family.provider_section
        for name in getattr(policy, family.provider_section)
        if name not in providers and not (name == "*" and family.provider_wildcard)
    ]


def misspelt_policy_task_types(policy: Policy, catalog: Catalog, locate: Locator | None = None) -> list[Problem]:
    """A `min_quality_by_task_type` key the catalog does not rate but nearly does is a misspelling whose
    bar would never apply. (A shared policy may set bars for task types a smaller catalog does not rate
    at all: harmless, no task has them.)"""
    import difflib

    task_types = catalog.task_types
    locate = locate or _LazyLocator(policy)
    return [
        _unknown_name(
            policy, locate, "min_quality_by_task_type", name, task_types, "task type", f"catalog '{catalog.name}'"
        )
        for name in policy.min_quality_by_task_type
        if name not in task_types and difflib.get_close_matches(name, task_types, n=1, cutoff=0.85)
    ]


def unknown_policy_regions(policy: Policy, catalog: Catalog, locate: Locator | None = None) -> list[Problem]:
    """Every region `allowed_regions_by_department` allows is one some catalog model serves from (the
    models' `regions`)."""
    regions = _catalog_regions(catalog)
    locate = locate or _LazyLocator(policy)
    return [
        _unknown_name(
            policy,
            locate,
            f"allowed_regions_by_department.{department}",
            region,
            regions,
            "region",
            f"catalog '{catalog.name}' (models' `regions`)",
        )
        for department, allowed in policy.allowed_regions_by_department.items()
        for region in allowed
        if region not in regions
    ]


def policy_bars_off_scale(policy: Policy, catalog: Catalog) -> list[Problem]:
    """Every quality bar the policy sets (`default_min_quality` when written, `min_quality_by_task_type`,
    `min_quality_by_complexity`) lies on the catalog's quality scale: a bar above it can never be met.
    Said once per bar, not once per task."""
    scale = catalog.quality_scale
    written_default = "default_min_quality" in policy.model_fields_set
    problems = []
    for key, values in (
        ("default_min_quality", {"": policy.default_min_quality} if written_default else {}),
        ("min_quality_by_task_type", policy.min_quality_by_task_type),
        ("min_quality_by_complexity", policy.min_quality_by_complexity),
    ):
        for name, bar in values.items():
            if not scale.min <= bar <= scale.max:
                problems.append(
                    Problem(
                        policy.source_path or "policy",
                        f"threshold {bar:g} is outside the quality scale of catalog '{catalog.name}', "
                        f"{scale.min:g}..{scale.max:g} ({scale.unit})",
                        field=f"{key}.{name}" if name else key,
                    )
                )
    return problems


def check_policy_names(
    policy: Policy, catalog: Catalog, workload: Workload, columns: dict[str, list] | None = None
) -> None:
    """The rules about names and bars across policy, workload and catalog, reported together: each
    would otherwise make a rule silently do nothing, or a bar impossible."""
    columns = columns if columns is not None else workload.columns()
    locate = _LazyLocator(policy)  # one parse of the policy's file for all the rules
    problems = [
        *unknown_policy_departments(policy, columns["department"], locate),
        *unknown_policy_providers(policy, catalog, locate),
        *misspelt_policy_task_types(policy, catalog, locate),
        *unknown_policy_regions(policy, catalog, locate),
        *unknown_workload_regions(catalog, workload, columns),
        *policy_bars_off_scale(policy, catalog),
    ]
    if problems:
        raise InputError(problems)


# --- after the arrays are built -------------------------------------------------------------------


def unservable_tasks(problem: RoutingProblem) -> list[UnservableTask]:
    """Every task needs at least one model within its limits that reaches its bar (in blended mode a
    mix can only average what its members offer, so the condition is the same). Each task without
    one is returned with the best quality on offer within its limits, or why no model is within them."""
    unservable = np.flatnonzero(~problem.meets_threshold.any(axis=1))
    if unservable.size == 0:
        return []
    quality = np.where(problem.within_limits(), np.nan_to_num(problem.quality, nan=-np.inf), -np.inf)
    out = []
    for t in unservable:
        row = problem.tasks.row(t)
        best = int(np.argmax(quality[t]))
        rated = np.isfinite(quality[t, best])
        note = None
        if not rated:
            note = "no model within the task's limits: " + "; ".join(problem.exclusion_reasons(t))
        out.append(
            UnservableTask(
                department=str(row["department"]),
                role=str(row["role"]),
                task=str(row["task"]),
                task_type=str(row["task_type"]),
                min_quality=float(row["min_quality"]),
                best_quality=float(quality[t, best]) if rated else None,
                best_model=str(problem.models["id"][best]) if rated else None,
                source=problem.workload.where(int(t)),
                note=note,
            )
        )
    return out


def check_servable(problem: RoutingProblem) -> None:
    """`unservable_tasks`, raised as one InfeasibleError."""
    unservable = unservable_tasks(problem)
    if unservable:
        raise InfeasibleError(unservable)
