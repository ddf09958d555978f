"""The plan as configuration a gateway loads: a LiteLLM proxy `config.yaml`, and a neutral JSON
policy (task -> models with shares, fallbacks in order, the threshold the choice was made for).

Both name only what the plan runs: a self-hosted deployment the plan does not provision (its fixed
cost is not worth paying) appears in no route, no fallback and no `model_list` entry, and a task's
fallbacks are the next *different* models (never one its own routes already weight)."""

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


def _env_prefix(text: str) -> str:
    prefix = re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_") or "MODEL"
    return f"MODEL_{prefix}" if prefix[0].isdigit() else prefix  # a shell variable cannot start with a digit


def _credentials(model) -> dict[str, str]:
    """Where the gateway finds credentials: environment variables, never secrets in the file. An API
    model reads its provider's key (`<PROVIDER>_API_KEY`). A self-hosted model runs on its own server,
    so it gets its own endpoint and its own key (`<MODEL>_API_BASE`, `<MODEL>_API_KEY`): without an
    explicit key LiteLLM's OpenAI-compatible client would send `OPENAI_API_KEY` to that server."""
    if is_self_hosted(model):
        prefix = _env_prefix(model.id)
        return {"api_base": f"os.environ/{prefix}_API_BASE", "api_key": f"os.environ/{prefix}_API_KEY"}
    return {"api_key": f"os.environ/{_env_prefix(model.provider)}_API_KEY"}


def _deployment_key(model) -> tuple:
    """What a gateway actually calls for a model: two catalog ids with the same key are one deployment."""
    return (model.gateway_model, tuple(sorted(_credentials(model).items())))


def _unprovisioned(result: Result) -> set[str]:
    return {d.model for d in result.deployments if not d.provisioned}


def _fallbacks(candidates, routes: list[str], models: dict, unprovisioned: set[str]) -> list[str]:
    """The decision record's fallbacks a gateway can use, in order: provisioned, and each a deployment
    neither the task's own routes nor an earlier fallback already is (a retry on the same deployment
    is wasted)."""
    seen = {_deployment_key(models[m]) for m in routes}
    out = []
    for model_id in candidates:
        if model_id in unprovisioned or model_id in routes or model_id not in models:
            continue
        key = _deployment_key(models[model_id])
        if key in seen:
            continue
        seen.add(key)
        out.append(model_id)
    return out


def to_policy(result: Result) -> dict:
    """Neutral policy: one entry per task, its routes (shares sum to 1) and fallbacks in order; the
    `models` it lists are the ones its routes and fallbacks name."""
    if result.decisions is None:
        raise RouterOptError(
            "a routing policy needs the plan's decision records (fallbacks): solve with decisions=True"
        )
    decisions = {(d.department, d.role, d.task): d for d in result.decisions}
    models = {m.id: m for m in result.models}
    unprovisioned = _unprovisioned(result)
    tasks = []
    for t in result.tasks:
        decision = decisions[(t.department, t.role, t.task)]
        routes = list(decision.models)
        stray = [m for m in routes if m in unprovisioned or m not in models]
        if stray:
            raise RouterOptError(
                f"task {t.task!r} ({t.department}/{t.role}): the plan routes it to {stray[0]!r}, which it neither "
                "lists as a model nor provisions; the plan is inconsistent: solve it again"
            )
        tasks.append(
            {
                "group": group_name(t.department, t.role, t.task),
                "department": t.department,
                "role": t.role,
                "task": t.task,
                "task_type": t.task_type,
                "min_quality": t.min_quality,
                "primary": routes[0],
                "routes": [{"model": m, "share": share} for m, share in zip(routes, decision.shares)],
                "fallbacks": _fallbacks(decision.fallbacks, routes, models, unprovisioned),
            }
        )
    named = {r["model"] for t in tasks for r in t["routes"]} | {f for t in tasks for f in t["fallbacks"]}
    s = result.settings
    return {
        "schema_version": POLICY_SCHEMA_VERSION,
        "generated_by": "router-opt",
        "catalog": s.catalog,
        "prices_as_of": s.prices_as_of.isoformat(),
        "workload": s.workload,
        "mode": str(s.mode),
        "input_sha256": s.input_sha256,
        "models": {
            m.id: {"gateway_model": m.gateway_model, "tier": m.tier, "provider": m.provider}
            for m in result.models
            if m.id in named
        },
        "tasks": tasks,
    }


def _check_variables(used: list, models: dict) -> None:
    """A self-hosted model's variables are its own: refuse a config where they would also serve another
    model or a provider (e.g. a self-hosted model named `openai` would read OPENAI_API_KEY)."""
    owners: dict[str, set[str]] = {}
    for model_id in used:
        model = models[model_id]
        owner = f"self-hosted {model_id}" if is_self_hosted(model) else f"provider {model.provider}"
        for ref in _credentials(model).values():
            owners.setdefault(ref.removeprefix("os.environ/"), set()).add(owner)
    for variable, who in sorted(owners.items()):
        if len(who) > 1 and any(o.startswith("self-hosted ") for o in who):
            raise RouterOptError(
                f"{variable} would serve {' and '.join(sorted(who))}: a self-hosted model needs credentials of "
                "its own; rename the model in the catalog"
            )


def to_litellm_config(result: Result) -> dict:
    """LiteLLM proxy config: a `model_list` entry per model the plan or its fallbacks use (its
    `model_name` is the model id), one routable group per task whose deployments carry the plan's
    shares as `weight` (LiteLLM's simple-shuffle picks deployments in proportion to weight), and
    `router_settings.fallbacks` from each task group to its fallback models in order."""
    models = {m.id: m for m in result.models}
    policy = to_policy(result)
    used = sorted(
        {r["model"] for t in policy["tasks"] for r in t["routes"]}
        | {f for t in policy["tasks"] for f in t["fallbacks"]}
    )
    _check_variables(used, models)
    model_list = [
        {
            "model_name": model_id,
            "litellm_params": {"model": models[model_id].gateway_model, **_credentials(models[model_id])},
        }
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
                    "model_info": {
                        "router_opt_model": route["model"],
                        "router_opt_task": task["task"],
                        "router_opt_min_quality": task["min_quality"],
                    },
                }
            )
        if task["fallbacks"]:
            fallbacks.append({task["group"]: task["fallbacks"]})
    return {
        "model_list": model_list,
        "router_settings": {"routing_strategy": "simple-shuffle", "fallbacks": fallbacks},
    }


def _header(result: Result, config: dict) -> str:
    """The config's opening comment: where it came from, how clients call it, and every environment
    variable it reads (a self-hosted model's own endpoint and key among them)."""
    s = result.settings
    models = {m.id: m for m in result.models}
    lines = [
        (
            f"LiteLLM proxy config written by router-opt from catalog {s.catalog} (prices as of "
            f"{s.prices_as_of.isoformat()}), workload {s.workload}, mode {s.mode}."
        ),
        "Clients call the task's group (model=router-opt/<department>/<role>/<task>); weights are the plan's shares.",
        "Fallbacks: per group, the next different models that meet the task's bar, cheapest first.",
        "Credentials come from the environment (os.environ/<VARIABLE>), never from this file:",
    ]
    providers: dict[str, set[str]] = {}
    for entry in config["model_list"]:
        if "weight" in entry["litellm_params"]:
            continue
        model = models[entry["model_name"]]
        params = entry["litellm_params"]
        if is_self_hosted(model):
            base, key = (params[k].removeprefix("os.environ/") for k in ("api_base", "api_key"))
            lines.append(f"  {base}, {key}: self-hosted {model.id}: its server's URL and its own key")
        else:
            providers.setdefault(params["api_key"].removeprefix("os.environ/"), set()).add(model.provider)
    for variable, names in sorted(providers.items()):
        lines.append(f"  {variable}: {', '.join(sorted(names))} models")
    if any(
        is_self_hosted(models[e["model_name"]]) for e in config["model_list"] if "weight" not in e["litellm_params"]
    ):
        lines.append(
            "Set each self-hosted <MODEL>_API_KEY (to any placeholder if its server checks none): left unset, "
            "LiteLLM sends OPENAI_API_KEY to that server."
        )
    skipped = sorted(_unprovisioned(result))
    if skipped:
        lines.append(f"Not provisioned by the plan, so named nowhere here: {', '.join(skipped)}.")
    return "".join(f"# {line}\n" for line in lines)


def litellm_yaml(result: Result) -> str:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False
    out = io.StringIO()
    config = to_litellm_config(result)
    out.write(_header(result, config))
    yaml.dump(config, out)
    return out.getvalue()
