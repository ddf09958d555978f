"""The inputs of a plan: catalog, workload and policy loaded from files (or the bundled defaults),
the names a result reports them by, and the `Settings` a plan of them records.

Apart from `router_opt.plan` (which solves) so that whatever builds a plan of its own from loaded
inputs (`router_opt.uncertainty`'s draws, the analyses) needs only this, not the solving front door.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from router_opt.bundled import DEFAULT_CATALOG, DEFAULT_POLICY, DEFAULT_WORKLOAD, bundled_path
from router_opt.engine import Objective
from router_opt.frame import Mode
from router_opt.io import load_catalog, load_policy, load_workload
from router_opt.io.loaders import WorkloadOptions
from router_opt.models import Catalog, Policy, Workload
from router_opt.result.schema import Settings
from router_opt.units import DAYS_PER_YEAR


@dataclass(frozen=True)
class Inputs:
    """Loaded inputs and the names to report them by (bundled files are named by their place in the
    source tree, so a result does not depend on where router-opt is installed)."""

    catalog: Catalog
    workload: Workload
    policy: Policy
    catalog_name: str
    workload_name: str
    policy_name: str
    sha256: dict[str, str] | None = None
    """SHA-256 of each input file's bytes (catalog, workload, policy), for audit trails."""
    quality_bars: str = "policy"
    """Where the policy's bars came from: "policy" (a file given), "bundled policy" (the bundled
    catalog without a policy), or "baseline" (a catalog of one's own without a policy: each task
    type's bar is the baseline's own quality on it, `BASELINE_BARS`)."""


BASELINE_BARS = "(none: each task type's bar is the baseline's own quality)"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_inputs(
    catalog: str | Path | None = None,
    workload: str | Path | None = None,
    policy: str | Path | None = None,
    workload_options: WorkloadOptions | None = None,
) -> Inputs:
    """Load each input from its file, or the bundled default where a path is None; `workload_options`
    say how to read a workload table (sheet, header row, column map)."""

    def resolve(given, default):
        return (Path(given), str(given)) if given is not None else (bundled_path(default), default)

    catalog_path, catalog_name = resolve(catalog, DEFAULT_CATALOG)
    workload_path, workload_name = resolve(workload, DEFAULT_WORKLOAD)
    policy_path, policy_name = resolve(policy, DEFAULT_POLICY)
    loaded_workload = load_workload(workload_path, workload_options)
    if workload is None:
        # Error messages about the bundled workload should name it the way README does.
        loaded_workload = loaded_workload.model_copy(update={"source_path": workload_name})
    loaded_catalog = load_catalog(catalog_path)
    sha256 = {"catalog": _sha256(catalog_path), "workload": _sha256(workload_path)}
    if policy is None and sha256["catalog"] != _sha256(bundled_path(DEFAULT_CATALOG)):
        # The bundled policy's bars are written for the bundled catalog's models. For a catalog of
        # one's own the natural bar keeps what the all-large habit delivers: the baseline's quality.
        bars = Policy.baseline_bars(loaded_catalog, [t.task_type for t in loaded_workload.tasks])
        return Inputs(
            loaded_catalog, loaded_workload, bars, catalog_name, workload_name, BASELINE_BARS, sha256, "baseline"
        )
    loaded_policy = load_policy(policy_path)  # validated before its bytes are hashed (a directory, a FIFO)
    sha256["policy"] = _sha256(policy_path)
    return Inputs(
        catalog=loaded_catalog,
        workload=loaded_workload,
        policy=loaded_policy,
        catalog_name=catalog_name,
        workload_name=workload_name,
        policy_name=policy_name,
        sha256=sha256,
        quality_bars="policy" if policy is not None else "bundled policy",
    )


def bars_note(inputs: Inputs, min_quality: float | None = None) -> str | None:
    """What to tell the user when the baseline's own quality sets bars (see `load_inputs`): which
    bars, for how many tasks. None when no task takes such a bar (a policy was given, every row has
    its own min_quality, or --min-quality applies)."""
    if inputs.quality_bars != "baseline" or min_quality is not None:
        return None
    taking = [t for t in inputs.workload.tasks if t.min_quality is None]
    if not taking:
        return None
    bars = inputs.policy.min_quality_by_task_type
    baseline = inputs.catalog.baseline
    shown = sorted({t.task_type for t in taking if t.task_type in bars})
    unrated = sorted({t.task_type for t in taking} - set(shown))
    return (
        f"no --policy for catalog '{inputs.catalog.name}': each task type's quality bar is the baseline {baseline}'s "
        f"own quality on it ({len(taking)} task(s): "
        + ", ".join(f"{t} {bars[t]:g}" for t in shown[:8])
        + (", ..." if len(shown) > 8 else "")
        + "), so the plan keeps what sending everything to the baseline delivers. The bundled policies/default.yaml "
        "is written for the bundled catalog; give --policy to set bars of your own."
        + (f" {baseline} rates no {', '.join(unrated)}: no bar there." if unrated else "")
    )


def settings_for(
    inputs: Inputs,
    mode: Mode,
    objective: Objective,
    min_quality: float | None,
    solver_name: str,
    days_per_year: int = DAYS_PER_YEAR,
    time_limit_seconds: float | None = None,
) -> Settings:
    """How a plan of `inputs` was made, as its `Result.settings` records it."""
    baseline = inputs.catalog.baseline_model
    return Settings(
        catalog=inputs.catalog.name,
        catalog_path=inputs.catalog_name,
        prices_as_of=inputs.catalog.prices_as_of,
        workload=inputs.workload.name,
        workload_path=inputs.workload_name,
        policy_path=inputs.policy_name,
        quality_bars="--min-quality" if min_quality is not None else inputs.quality_bars,
        mode=mode,
        objective=objective,
        min_quality=min_quality,
        baseline_model=baseline.id,
        baseline_tier=str(baseline.tier),
        solver=solver_name,
        days_per_year=days_per_year,
        time_limit_seconds=time_limit_seconds,
        input_sha256=inputs.sha256,
    )
