"""The plan as configuration a gateway loads: a LiteLLM proxy `config.yaml`, and a neutral JSON
policy (task -> models with shares, fallbacks in order, the threshold the choice was made for)."""

from __future__ import annotations

import io
import re

from router_opt.errors import RouterOptError
from router_opt.result import Result

POLICY_SCHEMA_VERSION = "1.0"


def group_name(department: str, role: str, task: str) -> str:
    """The routable name clients call for a task: `router-opt/<department>/<role>/<task>`, slugged."""

    def slug(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")

    return f"router-opt/{slug(department)}/{slug(role)}/{slug(task)}"


def is_self_hosted(model) -> bool:
    return model.deployment == "self-hosted" or model.provider.lower() == "self-hosted"


def _credentials(model) -> dict[str, str]:
    """Where the gateway finds credentials: environment variables, never secrets in the file. A
    self-hosted model gets its own endpoint variable (one per model, as each runs on its own server)."""
    prefix = re.sub(r"[^A-Z0-9]+", "_", (model.id if is_self_hosted(model) else model.provider).upper()).strip("_")
    if is_self_hosted(model):
        return {"api_base": f"os.environ/{prefix}_API_BASE"}
    return {"api_key": f"os.environ/{prefix}_API_KEY"}


def to_policy(result: Result) -> dict:
    """Neutral policy: one entry per task, its routes (shares sum to 1) and fallbacks in order."""
    if result.decisions is None:
        raise RouterOptError("a routing policy needs the plan's decision records (fallbacks): solve with decisions=True")
    decisions = {(d.department, d.role, d.task): d for d in result.decisions}
    tasks = []
    for t in result.tasks:
        decision = decisions[(t.department, t.role, t.task)]
        tasks.append(
            {
                "group": group_name(t.department, t.role, t.task),
                "department": t.department,
                "role": t.role,
                "task": t.task,
                "task_type": t.task_type,
                "min_quality": t.min_quality,
                "primary": decision.models[0],
                "routes": [{"model": m, "share": share} for m, share in zip(decision.models, decision.shares)],
                "fallbacks": list(decision.fallbacks),
            }
        )
    s = result.settings
    return {
        "schema_version": POLICY_SCHEMA_VERSION,
        "generated_by": "router-opt",
        "catalog": s.catalog,
        "prices_as_of": s.prices_as_of.isoformat(),
        "workload": s.workload,
        "mode": str(s.mode),
        "input_sha256": s.input_sha256,
        "models": {m.id: {"gateway_model": m.gateway_model, "tier": m.tier, "provider": m.provider} for m in result.models},
        "tasks": tasks,
    }


def to_litellm_config(result: Result) -> dict:
    """LiteLLM proxy config: a `model_list` entry per model the plan or its fallbacks use (its
    `model_name` is the model id), one routable group per task whose deployments carry the plan's
    shares as `weight` (LiteLLM's simple-shuffle picks deployments in proportion to weight), and
    `router_settings.fallbacks` from each task group to its fallback models in order."""
    models = {m.id: m for m in result.models}
    policy = to_policy(result)
    used = sorted({r["model"] for t in policy["tasks"] for r in t["routes"]} | {f for t in policy["tasks"] for f in t["fallbacks"]})
    model_list = [
        {"model_name": model_id, "litellm_params": {"model": models[model_id].gateway_model, **_credentials(models[model_id])}}
        for model_id in used
    ]
    fallbacks = []
    for task in policy["tasks"]:
        for route in task["routes"]:
            model = models[route["model"]]
            model_list.append(
                {
                    "model_name": task["group"],
                    "litellm_params": {"model": model.gateway_model, **_credentials(model), "weight": route["share"]},
                    "model_info": {"router_opt_task": task["task"], "router_opt_min_quality": task["min_quality"]},
                }
            )
        if task["fallbacks"]:
            fallbacks.append({task["group"]: task["fallbacks"]})
    return {
        "model_list": model_list,
        "router_settings": {"routing_strategy": "simple-shuffle", "fallbacks": fallbacks},
    }


def litellm_yaml(result: Result) -> str:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False
    out = io.StringIO()
    s = result.settings
    out.write(
        f"# LiteLLM proxy config written by router-opt from catalog {s.catalog} (prices as of "
        f"{s.prices_as_of.isoformat()}), workload {s.workload}, mode {s.mode}.\n"
        "# Clients call the task's group (model=router-opt/<department>/<role>/<task>); weights are the plan's shares.\n"
    )
    yaml.dump(to_litellm_config(result), out)
    return out.getvalue()
