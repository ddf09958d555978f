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


CASES = {
    # 98 tasks x 7 models: the size of the bundled example (14 roles x 7 tasks).
    "small": CaseSpec("small", 98, 7, 7, 2, capacity=True, seed=1),
    "large": CaseSpec("large", 5_000, 50, 10, 10, capacity=True, seed=2),
    "stress": CaseSpec("stress", 50_000, 100, 10, 25, capacity=True, seed=3),
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
        fraction = rng.uniform(0.3, 0.9, n_other)
        fallback = rng.uniform(0.002, 0.02, n_other) * mtok.sum()
        raw = np.where(load > 0, fraction * load, fallback)
        capacity[capped] = [float(f"{c:.3g}") for c in raw[capped]]

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
        provider = PROVIDERS[int(rng.integers(len(PROVIDERS)))]
        lines += model_lines(ids[i], TIERS[k][0], provider, input_price[i], output_price[i], quality[i], capacity[i])
    lines += model_lines(base_id, "Reasoning", "Frontier Labs", base_in, base_out, base_quality, None)
    catalog = directory / "catalog.yaml"
    catalog.write_text("\n".join(lines) + "\n", encoding="utf-8")

    policy = directory / "policy.yaml"
    policy.write_text(
        "default_min_quality: 80\nmin_quality_by_task_type:\n"
        + "".join(f"  {name}: {_fmt(t)}\n" for name, t in zip(TASK_TYPES, threshold)),
        encoding="utf-8",
    )

    workload = directory / "workload.csv"
    rows = ["department,role,headcount,task,task_type,invocations_per_day,input_tokens,output_tokens"]
    for t in range(n_tasks):
        r = role_of_task[t]
        name = TASK_TYPES[task_type[t]]
        rows.append(
            f"Dept {department_of_role[r]:04d},Role {r:05d},{headcount[r]},Task {slot_in_role[t]:02d} {name},"
            f"{name},{_fmt(invocations[t])},{input_tokens[t]},{output_tokens[t]}"
        )
    workload.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return CaseFiles(
        spec.name, directory, catalog, workload, policy, n_tasks, spec.models, int((~np.isnan(capacity)).sum())
    )
