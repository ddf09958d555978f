"""Helpers for tests: small catalogs and workloads built in code, and random instances for the oracle
and property tests."""

from __future__ import annotations

from datetime import date

import numpy as np

from router_opt.models import Catalog, ModelSpec, Policy, TaskDemand, Workload


def make_catalog(models: list[dict], baseline: str | None = None) -> Catalog:
    specs = tuple(
        ModelSpec(
            id=m["id"],
            tier=m.get("tier", "Commercial Large"),
            provider=m.get("provider", "Acme"),
            input_usd_per_mtok=m["input"],
            output_usd_per_mtok=m.get("output", m["input"]),
            quality=m["quality"],
        )
        for m in models
    )
    return Catalog(name="test", prices_as_of=date(2025, 1, 1), baseline=baseline or specs[0].id, models=specs)


def make_workload(rows: list[dict]) -> Workload:
    defaults = {"department": "D", "role": "R", "headcount": 1, "task_type": "general"}
    tasks = tuple(TaskDemand(**(defaults | {"task": f"task{i}"} | row)) for i, row in enumerate(rows))
    return Workload(name="test", tasks=tasks)


def random_instance(seed: int, n_tasks: int | None = None, n_models: int | None = None):
    """A random catalog + workload + policy whose baseline (the best model on every task type) meets
    every threshold, so every task is servable and the baseline plan is feasible."""
    rng = np.random.default_rng(seed)
    n_models = n_models or int(rng.integers(2, 9))
    n_tasks = n_tasks or int(rng.integers(1, 40))
    n_types = int(rng.integers(1, 6))
    types = [f"type{k}" for k in range(n_types)]
    quality = rng.uniform(40, 99, size=(n_models, n_types)).round(1)
    quality[0] = 100.0  # the baseline rates everything, best
    rated = rng.random((n_models, n_types)) < 0.8
    rated[0] = True
    rated[np.arange(n_models), rng.integers(0, n_types, size=n_models)] = True  # each rates something
    prices = rng.lognormal(mean=-1.0, sigma=1.5, size=(n_models, 2))
    prices[0] = prices.max(axis=0) * 1.5  # the baseline is the dearest, as a large model is
    models = [
        {
            "id": f"m{j}",
            "input": float(prices[j, 0]),
            "output": float(prices[j, 1]),
            "quality": {types[k]: float(quality[j, k]) for k in range(n_types) if rated[j, k]},
        }
        for j in range(n_models)
    ]
    rows = [
        {
            "department": f"D{int(rng.integers(0, 3))}",
            "role": "R",
            "task": f"t{i}",
            "task_type": types[int(rng.integers(0, n_types))],
            "invocations_per_day": float(rng.integers(0, 200)),
            "input_tokens": int(rng.integers(0, 5000)),
            "output_tokens": int(rng.integers(0, 2000)),
            "min_quality": round(float(rng.uniform(40, 100)), 1),
        }
        for i in range(n_tasks)
    ]
    # One headcount per (department, role).
    headcounts = {d: int(rng.integers(1, 50)) for d in ("D0", "D1", "D2")}
    for row in rows:
        row["headcount"] = headcounts[row["department"]]
    return make_catalog(models), make_workload(rows), Policy()
