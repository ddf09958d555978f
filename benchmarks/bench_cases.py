"""Synthetic benchmark cases, generated deterministically (seeded numpy) as real input files.

Each case is a catalog YAML, a workload CSV and a policy YAML in one directory, written with plain
string formatting so the benchmark does not depend on how router-opt itself writes files.

Shape of every case:
- task types: 16; a policy threshold per type between 72 and 90;
- models: one per tier first (so the small case has all seven tiers), then tiers drawn at random;
  prices and quality from the tier's range with noise, so cheap models sometimes beat dear ones;
  Fine-Tuned and Specialist models rate only some task types (the other pairs are ineligible);
- the baseline: the dearest model, rating every task type at 97-99 (above every other model and
  every threshold) and without a capacity limit, so every task is servable and the program feasible;
- capacity (where the case asks for it): on most of the cheap models, set to a fraction (30-90%) of
  the traffic the uncapacitated strict optimum would send them, so many capacities bind.

Heavy coupling (the `-heavy` cases, issue 19): a capacity on every model but the baseline
(`capacity_on_all`), each scaled by `capacity_scale` (0.1), so that nearly all traffic has to go to
the baseline and every capacity row binds; the policy adds department budgets and vendor volume caps
that bind too. They are sized from a plan that keeps every limit, so the case stays feasible: each
task on its uncapacitated choice at the share its capacity allows (the budgeted departments' tasks
served first; in blended mode theirs on their cheapest two-model mix), the rest on its cheapest
model with no capacity and no cap (the baseline at worst; blended, the cheapest mix of those), each
capped provider's share of invocations cut to 60-90% of that plan's; a budgeted department gets
100.1% of that plan's spend. The optimum spreads the scarce cheap capacity over every department by
what it saves, so the budgeted departments spend more than that plan gives them and their budgets
bind. A blended plan spends far less than a strict one, so blended mode gets its own policy file
(policy-blended.yaml) with budgets sized from the blended plan. These draws come from a second
generator seeded from the case's seed, after the first has made everything the light cases have,
so the light cases' files stay byte for byte what they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

TIERS = (
    # tier, (input $/Mtok low, high), output/input price ratio, (quality low, high), share of types rated
    ("Reasoning", (3.0, 10.0), 4.0, (88.0, 96.0), 1.0),
    ("Commercial Large", (1.5, 4.0), 4.0, (85.0, 95.0), 1.0),
    ("Commercial Small", (0.1, 0.6), 4.0, (76.0, 90.0), 1.0),
    ("Open-Source", (0.05, 0.9), 1.5, (70.0, 89.0), 1.0),
    ("Fine-Tuned", (0.1, 1.0), 2.0, (82.0, 95.0), 0.4),
    ("Instruct", (0.03, 0.3), 2.0, (62.0, 84.0), 1.0),
    ("Specialist", (0.3, 3.0), 3.0, (86.0, 96.0), 0.25),
)
PROVIDERS = ("Anthropic", "OpenAI", "Google", "Mistral", "Meta", "Cohere", "Self-hosted", "AWS", "Azure", "DeepSeek")
TASK_TYPES = (
    "classification",
    "faq",
    "sentiment",
    "extraction",
    "tagging",
    "screening",
    "anomaly_detection",
    "summarization",
    "drafting",
    "translation",
    "data_analysis",
    "research",
    "code_generation",
    "legal_analysis",
    "math_reasoning",
    "creative_writing",
)


@dataclass(frozen=True)
class CaseSpec:
    name: str
    tasks: int
    models: int
    tasks_per_role: int
    roles_per_department: int
    capacity: bool
    seed: int
    capacity_scale: float = 1.0
    """Every capacity times this (heavy coupling: 0.1)."""
    capacity_on_all: bool = False
    """A capacity on every model but the baseline, not only on most cheap ones (heavy coupling)."""
    budgets: int = 0
    """Departments given a budget (heavy coupling)."""
    vendor_caps: int = 0
    """Providers given a cap on their share of invocations (heavy coupling)."""


CASES = {
    # 98 tasks x 7 models: the size of the bundled example (14 roles x 7 tasks).
    "small": CaseSpec("small", 98, 7, 7, 2, capacity=True, seed=1),
    "large": CaseSpec("large", 5_000, 50, 10, 10, capacity=True, seed=2),
    "stress": CaseSpec("stress", 50_000, 100, 10, 25, capacity=True, seed=3),
    # Heavy coupling (issue 19): the same shapes and seeds with a capacity on every model but the
    # baseline, each at a tenth of the light cases' figure, budgets on some departments and volume
    # caps on the providers the plan leans on; nearly every row binds.
    "large-heavy": CaseSpec(
        "large-heavy",
        5_000,
        50,
        10,
        10,
        capacity=True,
        seed=2,
        capacity_scale=0.1,
        capacity_on_all=True,
        budgets=12,
        vendor_caps=3,
    ),
    "stress-heavy": CaseSpec(
        "stress-heavy",
        50_000,
        100,
        10,
        25,
        capacity=True,
        seed=3,
        capacity_scale=0.1,
        capacity_on_all=True,
        budgets=24,
        vendor_caps=3,
    ),
}


@dataclass(frozen=True)
class CaseFiles:
    name: str
    directory: Path
    catalog: Path
    workload: Path
    policy: Path
    tasks: int
    models: int
    capacitated_models: int
    policy_blended: Path | None = None
    """Heavy cases: the policy for blended mode (budgets sized from a blended plan)."""

    def policy_for(self, mode: str) -> Path:
        return self.policy_blended if mode == "blended" and self.policy_blended is not None else self.policy

    @property
    def pairs(self) -> int:
        return self.tasks * self.models


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def generate(spec: CaseSpec, directory: Path) -> CaseFiles:
    """Write the case's three files into `directory` and return their paths."""
    rng = np.random.default_rng(spec.seed)
    directory.mkdir(parents=True, exist_ok=True)
    n_types = len(TASK_TYPES)

    # ---- models -------------------------------------------------------------------------------
    n_other = spec.models - 1  # the baseline is added last
    tier_index = np.r_[np.arange(min(len(TIERS), n_other)), rng.integers(0, len(TIERS), max(0, n_other - len(TIERS)))]
    tier_index = tier_index[:n_other]
    input_price = np.empty(n_other)
    output_price = np.empty(n_other)
    quality = np.full((n_other, n_types), np.nan)
    for i, k in enumerate(tier_index):
        _, (lo, hi), ratio, (q_lo, q_hi), rated_share = TIERS[k]
        input_price[i] = np.exp(rng.uniform(np.log(lo), np.log(hi)))
        output_price[i] = input_price[i] * ratio * rng.uniform(0.8, 1.25)
        rated = rng.random(n_types) < rated_share
        if not rated.any():
            rated[rng.integers(n_types)] = True
        base = rng.uniform(q_lo, q_hi)
        quality[i, rated] = np.clip(base + rng.normal(0.0, 3.0, rated.sum()), q_lo - 5, 96.0)
    quality = np.round(quality, 1)
    input_price, output_price = np.round(input_price, 4), np.round(output_price, 4)
    # The baseline: dearer than every other model and better on every task type.
    base_in = round(float(max(input_price.max(), 5.0) * 1.5), 2)
    base_out = round(base_in * 5.0, 2)
    base_quality = np.round(rng.uniform(97.0, 99.0, n_types), 1)

    # ---- tasks --------------------------------------------------------------------------------
    n_tasks = spec.tasks
    n_roles = -(-n_tasks // spec.tasks_per_role)
    role_of_task = np.arange(n_tasks) // spec.tasks_per_role
    slot_in_role = np.arange(n_tasks) % spec.tasks_per_role
    department_of_role = np.arange(n_roles) // spec.roles_per_department
    headcount = np.maximum(1, np.round(np.exp(rng.normal(np.log(40), 1.0, n_roles)))).astype(int)
    task_type = rng.integers(0, n_types, n_tasks)
    invocations = np.round(np.exp(rng.normal(np.log(20), 0.9, n_tasks)), 1)
    input_tokens = np.maximum(20, np.round(np.exp(rng.normal(np.log(900), 0.8, n_tasks)))).astype(int)
    output_tokens = np.maximum(10, np.round(np.exp(rng.normal(np.log(300), 0.8, n_tasks)))).astype(int)
    threshold = np.round(rng.uniform(72.0, 90.0, n_types), 1)

    # ---- capacities: a fraction of what the uncapacitated strict optimum sends each cheap model --
    capacity = np.full(n_other, np.nan)
    if spec.capacity:
        all_in = np.r_[input_price, base_in]
        all_out = np.r_[output_price, base_out]
        all_quality = np.vstack([quality, base_quality])
        volume = headcount[role_of_task] * invocations
        usd_per_day = volume[:, None] * (np.outer(input_tokens, all_in) + np.outer(output_tokens, all_out)) / 1e6
        task_quality = all_quality[:, task_type].T  # T x M
        eligible = np.nan_to_num(task_quality, nan=-1.0) >= threshold[task_type][:, None]
        chosen = np.where(eligible, usd_per_day, np.inf).argmin(axis=1)
        mtok = volume * (input_tokens + output_tokens) / 1e6
        load = np.bincount(chosen, weights=mtok, minlength=spec.models)[:n_other]
        price = input_price + output_price
        cheap = price <= np.quantile(price, 0.8)
        capped = cheap & (rng.random(n_other) < 0.85)
        if spec.capacity_on_all:
            capped = np.ones(n_other, dtype=bool)
        fraction = rng.uniform(0.3, 0.9, n_other)
        fallback = rng.uniform(0.002, 0.02, n_other) * mtok.sum()
        raw = np.where(load > 0, fraction * load, fallback)
        capacity[capped] = [float(f"{c:.3g}") for c in raw[capped] * spec.capacity_scale]

    providers = [PROVIDERS[int(rng.integers(len(PROVIDERS)))] for _ in range(n_other)]
    heavy = {}
    if spec.capacity and (spec.budgets or spec.vendor_caps):
        heavy = _heavy_policy(
            spec,
            capacity,
            providers,
            chosen,
            volume,
            mtok,
            usd_per_day,
            eligible,
            task_quality,
            threshold[task_type],
            department_of_role[role_of_task],
        )

    # ---- files --------------------------------------------------------------------------------
    ids = [f"m{i:03d}-{TIERS[k][0].lower().replace(' ', '-')}" for i, k in enumerate(tier_index)]
    base_id = "baseline-frontier"
    lines = [
        f"name: synthetic-{spec.name}",
        "currency: USD",
        "prices_as_of: 2025-12-31",
        f"baseline: {base_id}",
        "quality_scale: {min: 0, max: 100, unit: percent}",
        "models:",
    ]

    def model_lines(model_id, tier, provider, p_in, p_out, q_row, cap):
        out = [
            f"  - id: {model_id}",
            f'    tier: "{tier}"',
            f'    provider: "{provider}"',
            f"    input_usd_per_mtok: {_fmt(p_in)}",
            f"    output_usd_per_mtok: {_fmt(p_out)}",
        ]
        if cap is not None and not np.isnan(cap):
            out.append(f"    capacity_mtok_per_day: {_fmt(cap)}")
        out.append("    quality:")
        out += [f"      {TASK_TYPES[j]}: {_fmt(q)}" for j, q in enumerate(q_row) if not np.isnan(q)]
        return out

    for i, k in enumerate(tier_index):
        provider = providers[i]
        lines += model_lines(ids[i], TIERS[k][0], provider, input_price[i], output_price[i], quality[i], capacity[i])
    lines += model_lines(base_id, "Reasoning", "Frontier Labs", base_in, base_out, base_quality, None)
    catalog = directory / "catalog.yaml"
    catalog.write_text("\n".join(lines) + "\n", encoding="utf-8")

    policy = directory / "policy.yaml"
    thresholds = "default_min_quality: 80\nmin_quality_by_task_type:\n" + "".join(
        f"  {name}: {_fmt(t)}\n" for name, t in zip(TASK_TYPES, threshold)
    )
    policy.write_text(thresholds + _limits(*heavy["strict"]) if heavy else thresholds, encoding="utf-8")
    policy_blended = None
    if heavy:
        # Budgets that bind in blended mode are sized from a blended plan (a strict plan spends more).
        policy_blended = directory / "policy-blended.yaml"
        policy_blended.write_text(thresholds + _limits(*heavy["blended"]), encoding="utf-8")

    workload = directory / "workload.csv"
    rows = ["department,role,headcount,task,task_type,invocations_per_day,input_tokens,output_tokens"]
    for t in range(n_tasks):
        r = role_of_task[t]
        name = TASK_TYPES[task_type[t]]
        rows.append(
            f"{_department(department_of_role[r])},Role {r:05d},{headcount[r]},Task {slot_in_role[t]:02d} {name},"
            f"{name},{_fmt(invocations[t])},{input_tokens[t]},{output_tokens[t]}"
        )
    workload.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return CaseFiles(
        spec.name,
        directory,
        catalog,
        workload,
        policy,
        n_tasks,
        spec.models,
        int((~np.isnan(capacity)).sum()),
        policy_blended,
    )


def _limits(budgets: dict[str, float], caps: dict[str, float]) -> str:
    """The policy lines of a heavy case's budgets and vendor caps."""
    out = ""
    if budgets:
        out += "budgets_usd_per_day:\n" + "".join(f'  "{d}": {_fmt(b)}\n' for d, b in budgets.items())
    if caps:
        out += "vendor_caps:\n" + "".join(f'  "{p}": {{max_volume_share: {_fmt(c)}}}\n' for p, c in caps.items())
    return out


def _department(d: int) -> str:
    return f"Dept {d:04d}"


def _cheapest_mixes(
    usd_per_day: np.ndarray, task_quality: np.ndarray, bar: np.ndarray, chosen: np.ndarray, chunk: int = 256
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each task's cheapest blended plan without capacity: the cheapest pair (i below the bar, j at
    or above it) mixed to meet the bar exactly, or its cheapest single model meeting the bar
    (`chosen`) if that is cheaper. Returns (lower model or -1, upper model, lower's share)."""
    n_tasks = usd_per_day.shape[0]
    rows = np.arange(n_tasks)
    lower = np.full(n_tasks, -1)
    upper = chosen.copy()
    share = np.zeros(n_tasks)
    best = usd_per_day[rows, chosen]
    q = np.nan_to_num(task_quality, nan=-np.inf)
    for start in range(0, n_tasks, chunk):
        part = slice(start, min(start + chunk, n_tasks))
        c, qq, b = usd_per_day[part], q[part], bar[part, None, None]
        qi, qj = qq[:, :, None], qq[:, None, :]
        ok = (qi < b) & np.isfinite(qi) & (qj >= b) & np.isfinite(c[:, :, None]) & np.isfinite(c[:, None, :])
        with np.errstate(invalid="ignore"):
            alpha = np.where(ok, (qj - b) / np.where(ok, qj - qi, 1.0), 0.0)  # the lower model's share
            cost = np.where(ok, alpha * c[:, :, None] + (1.0 - alpha) * c[:, None, :], np.inf)
        flat = cost.reshape(cost.shape[0], -1).argmin(axis=1)
        i, j = np.divmod(flat, cost.shape[1])
        local = np.arange(cost.shape[0])
        better = cost[local, i, j] < best[part]
        index = np.arange(part.start, part.stop)[better]
        lower[index], upper[index], share[index] = i[better], j[better], alpha[local, i, j][better]
    return lower, upper, share


def _heavy_policy(
    spec: CaseSpec,
    capacity: np.ndarray,
    providers: list[str],
    chosen: np.ndarray,
    volume: np.ndarray,
    mtok: np.ndarray,
    usd_per_day: np.ndarray,
    eligible: np.ndarray,
    task_quality: np.ndarray,
    bar: np.ndarray,
    department: np.ndarray,
) -> dict[str, tuple[dict[str, float], dict[str, float]]]:
    """Department budgets and provider volume caps for a heavy-coupling case, per mode, sized from a
    plan that keeps every limit (see the module docstring): mode -> (budget per department, cap per
    provider)."""
    rng = np.random.default_rng([spec.seed, 19])
    n_tasks, n_models = usd_per_day.shape
    rows = np.arange(n_tasks)
    n_departments = int(department.max()) + 1
    budgeted = np.sort(rng.choice(n_departments, size=min(spec.budgets, n_departments), replace=False))
    first = np.isin(department, budgeted)
    provider_of = np.array(list(providers) + ["Frontier Labs"])
    total = volume.sum()
    share = {p: float(volume[provider_of[chosen] == p].sum() / total) for p in sorted(set(providers))}
    capped_providers = sorted(sorted(share, key=lambda p: -share[p])[: spec.vendor_caps])
    cut = {p: rng.uniform(0.6, 0.9) for p in capped_providers}
    free = np.r_[np.isnan(capacity), True] & ~np.isin(provider_of, capped_providers)
    fallback = np.where(eligible & free[None, :], usd_per_day, np.inf).argmin(axis=1)
    limit = np.r_[capacity, np.inf]
    limit = np.where(np.isnan(limit), np.inf, limit)
    # The plan's first choice per task: strict, its cheapest model meeting the bar; blended, the
    # budgeted departments' tasks on their cheapest mix (the others keep the strict choice).
    mixes = _cheapest_mixes(usd_per_day[first], task_quality[first], bar[first], chosen[first])
    # Blended, what a budgeted department's task falls back to is its cheapest mix of free models.
    free_cost = np.where(free[None, :], usd_per_day[first], np.inf)
    free_mixes = _cheapest_mixes(free_cost, task_quality[first], bar[first], fallback[first])
    out = {}
    for mode in ("strict", "blended"):
        lower, upper, low_share = np.full(n_tasks, -1), chosen.copy(), np.zeros(n_tasks)
        if mode == "blended":
            lower[first], upper[first], low_share[first] = mixes
        has_lower = lower >= 0
        low = np.maximum(lower, 0)
        # Capacity: the budgeted departments' tasks first, then the rest from what is left; a
        # task sends its first choice the share its tightest model allows, the rest to `fallback`.
        on_first = np.zeros(n_tasks)
        left = limit.copy()
        for group in (first, ~first):
            demand = np.bincount(upper[group], weights=mtok[group] * (1 - low_share[group]), minlength=n_models)
            demand += np.bincount(
                low[group & has_lower], weights=(mtok * low_share)[group & has_lower], minlength=n_models
            )
            allowed = np.minimum(1.0, left / np.maximum(demand, 1e-300))
            factor = np.where(has_lower, np.minimum(allowed[upper], allowed[low]), allowed[upper])
            on_first[group] = factor[group]
            used = np.bincount(upper[group], weights=(mtok * (1 - low_share) * on_first)[group], minlength=n_models)
            used += np.bincount(
                low[group & has_lower], weights=(mtok * low_share * on_first)[group & has_lower], minlength=n_models
            )
            left = np.maximum(left - used, 0.0)
        caps: dict[str, float] = {}
        for p in capped_providers:
            on_p = (provider_of[upper] == p) * (1 - low_share) + (provider_of[low] == p) * has_lower * low_share
            used = float((volume * on_first * on_p).sum() / total)
            if used <= 0:
                continue
            cap = float(_fmt(used * cut[p]))
            on_first = np.where(on_p > 0, on_first * cap / used, on_first)
            caps[p] = cap
        first_cost = (1 - low_share) * usd_per_day[rows, upper] + low_share * np.where(
            has_lower, usd_per_day[rows, low], 0.0
        )
        fallback_cost = usd_per_day[rows, fallback]
        if mode == "blended":
            f_lower, f_upper, f_share = free_mixes
            f_rows = rows[first]
            fallback_cost[first] = (1 - f_share) * usd_per_day[f_rows, f_upper] + f_share * np.where(
                f_lower >= 0, usd_per_day[f_rows, np.maximum(f_lower, 0)], 0.0
            )
        spend = first_cost * on_first + fallback_cost * (1.0 - on_first)
        per_department = np.bincount(department, weights=spend, minlength=n_departments)
        out[mode] = ({_department(int(d)): float(f"{per_department[d] * 1.001:.6g}") for d in budgeted}, caps)
    return out
