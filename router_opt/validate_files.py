"""`router-opt validate`: check files without solving. Each file is loaded as what it is (catalog,
workload or policy), and each workload is checked against a catalog and a policy as `build_problem`
checks it (the rules: router_opt.validate). Problems are collected, not raised, so that one run names
every faulty file."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from router_opt.errors import InputError, Problem


@dataclass
class FilesCheck:
    """What `check_files` found: the files that are fine, and every problem."""

    ok: list[tuple[Path, str, str]] = field(default_factory=list)
    """(path, kind, summary) of each file no problem names, in the order loaded."""
    problems: list[Problem] = field(default_factory=list)
    options: tuple[str, ...] = ()
    """The parameters the problems name (see RouterOptError.options)."""

    def raise_problems(self) -> None:
        """Raise every problem found as one InputError (nothing when there is none)."""
        if self.problems:
            raise InputError(self.problems, option=self.options)


def summary(kind: str, loaded) -> str:
    """One line about a loaded catalog, workload or policy: what it holds."""
    if kind == "catalog":
        return f"{len(loaded.models)} models, {len(loaded.task_types)} task types, baseline {loaded.baseline}"
    if kind == "workload":
        return f"{len(loaded.tasks)} tasks in {len({(t.department, t.role) for t in loaded.tasks})} roles"
    return (
        f"{len(loaded.min_quality_by_task_type)} task-type thresholds, "
        f"{len(loaded.budgets_usd_per_day) + (loaded.total_budget_usd_per_day is not None)} budgets, "
        f"{len(loaded.vendor_caps)} vendor caps, {len(loaded.allowed_regions_by_department)} residency rules"
    )


def check_files(
    files: Iterable[Path],
    catalog: Path | None = None,
    workload_options=None,
    on_checked: Callable[[Path, Path], None] | None = None,
) -> FilesCheck:
    """Load each file as what it is (catalog, workload or policy, whatever the order), then check each
    workload against the first catalog among them (else `catalog`, else the bundled one) and the first
    policy (else the bundled one), as `build_problem` would, calling `on_checked(workload, catalog)`
    after each. Problems in the files are collected, not raised (an infeasible workload still raises
    InfeasibleError); a file is ok only if no problem names it (a cross-check can fault a file that
    loaded fine)."""
    from router_opt.io import detect_kind, load_catalog, load_policy, load_workload

    result = FilesCheck()
    loaders = {"catalog": load_catalog, "workload": load_workload, "policy": load_policy}
    loaded: dict[str, list] = {"catalog": [], "workload": [], "policy": []}
    for path in files:
        try:
            kind = detect_kind(path)
            reading = (workload_options,) if kind == "workload" else ()
            loaded[kind].append((path, loaders[kind](path, *reading)))
        except InputError as exc:
            result.problems += exc.problems
            result.options += exc.options
    if loaded["workload"]:
        _check_workloads(loaded, catalog, result, on_checked or (lambda workload, against: None))
    faulty = {p.path for p in result.problems}
    result.ok = [
        (path, kind, summary(kind, obj))
        for kind, items in loaded.items()
        for path, obj in items
        if str(path) not in faulty
    ]
    return result


def _check_workloads(
    loaded: dict[str, list], catalog: Path | None, result: FilesCheck, on_checked: Callable[[Path, Path], None]
) -> None:
    """Each loaded workload against the catalog and policy `check_files` names, until the first fails."""
    from router_opt.bundled import DEFAULT_CATALOG, DEFAULT_POLICY, bundled_path
    from router_opt.frame import build_problem
    from router_opt.io import load_catalog, load_policy

    try:
        if loaded["catalog"]:
            against_path, against = loaded["catalog"][0]
        else:
            against_path = catalog or bundled_path(DEFAULT_CATALOG)
            against = load_catalog(against_path)
        policy = loaded["policy"][0][1] if loaded["policy"] else load_policy(bundled_path(DEFAULT_POLICY))
        for path, workload in loaded["workload"]:
            build_problem(against, workload, policy)
            on_checked(path, against_path)
    except InputError as exc:
        result.problems += exc.problems
        result.options += exc.options
