"""export-policy: the LiteLLM config has LiteLLM's documented shape and the neutral policy's shares
add up; both come from the same plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from router_opt.cli import app
from router_opt.errors import RouterOptError
from router_opt.export import litellm_yaml, to_litellm_config, to_policy

runner = CliRunner()


def litellm_config(*args: str) -> dict:
    result = runner.invoke(app, ["export-policy", *args])
    assert result.exit_code == 0, result.output
    return YAML(typ="safe", pure=True).load(result.output)


@pytest.mark.parametrize("mode", ["strict", "blended"])
def test_litellm_config_shape(mode):
    config = litellm_config("--mode", mode)
    # LiteLLM proxy config keys (docs: proxy/configs, proxy/reliability, load_balancing)
    assert set(config) == {"model_list", "router_settings"}
    names = set()
    weights: dict[str, float] = {}
    for entry in config["model_list"]:
        assert set(entry) <= {"model_name", "litellm_params", "model_info"}
        params = entry["litellm_params"]
        assert "/" in params["model"]
        # every deployment carries a key reference; a self-hosted one (api_base) its own, named after it
        assert str(params["api_key"]).startswith("os.environ/")
        if "api_base" in params:
            base = params["api_base"]
            assert base.startswith("os.environ/") and base.endswith("_API_BASE")
            assert params["api_key"] == base.removesuffix("_API_BASE") + "_API_KEY"
        names.add(entry["model_name"])
        if "weight" in params:
            weights[entry["model_name"]] = weights.get(entry["model_name"], 0.0) + params["weight"]
    assert len(weights) == 98  # one routable group per task of the bundled workload
    assert all(total == pytest.approx(1.0, abs=1e-9) for total in weights.values())
    settings = config["router_settings"]
    assert settings["routing_strategy"] == "simple-shuffle"
    for rule in settings["fallbacks"]:
        ((group, targets),) = rule.items()
        assert group in weights and targets and set(targets) <= names


def test_neutral_policy_shares_sum_to_one_and_fallbacks_meet_the_bar(tmp_path):
    plan = tmp_path / "plan.json"
    assert runner.invoke(app, ["optimize", "--mode", "blended", "-f", "json", "-o", str(plan)]).exit_code == 0
    refused = runner.invoke(app, ["export-policy", "--plan", str(plan), "-f", "json"])
    assert refused.exit_code == 2 and "save it with `router-opt optimize -f json --explain`" in refused.output
    assert (
        runner.invoke(app, ["optimize", "--mode", "blended", "-f", "json", "--explain", "-o", str(plan)]).exit_code == 0
    )
    out = runner.invoke(app, ["export-policy", "--plan", str(plan), "-f", "json"]).output
    policy = json.loads(out)
    saved = json.loads(plan.read_text())
    quality = {m["id"]: m["quality"] for m in saved["models"]}
    assert len(policy["tasks"]) == len(saved["tasks"])
    split = 0
    for task in policy["tasks"]:
        assert sum(r["share"] for r in task["routes"]) == pytest.approx(1.0, abs=1e-9)
        assert task["primary"] == task["routes"][0]["model"]
        split += len(task["routes"]) > 1
        for fallback in task["fallbacks"]:  # a fallback must meet the bar on its own
            assert quality[fallback][task["task_type"]] >= task["min_quality"]
    assert split > 0  # blended mode mixes models, and the policy keeps the mix
    assert policy["input_sha256"] == saved["settings"]["input_sha256"]


# --- what the export names (issue 14 item 2) and whose key a self-hosted route reads (item 3) ---------

GATEWAY = Path(__file__).parent / "data" / "gateway"


@pytest.fixture(scope="module")
def gateway_plan():
    """The fixed-cost catalog: ticket-clf-8b ($900/month) meets the classification bars but is not
    provisioned; support-13b ($150/month) is."""
    from router_opt.plan import optimize

    result = optimize(GATEWAY / "catalog.yaml", GATEWAY / "workload.csv", mode="blended")
    provisioned = {d.model: d.provisioned for d in result.deployments}
    assert provisioned == {"ticket-clf-8b": False, "support-13b": True}
    return result


def test_unprovisioned_deployment_is_named_nowhere(gateway_plan):
    text = litellm_yaml(gateway_plan)
    header, body = text.split("model_list:")
    assert "ticket-clf-8b" not in body  # no model_list entry, no route, no fallback
    assert "Not provisioned by the plan, so named nowhere here: ticket-clf-8b." in header
    policy = to_policy(gateway_plan)
    assert "ticket-clf-8b" not in policy["models"]
    assert all("ticket-clf-8b" not in t["fallbacks"] for t in policy["tasks"])


def test_export_defends_against_fallbacks_it_cannot_use(gateway_plan):
    """Decision records naming the unprovisioned model, the group's own models and a repeat: the export
    keeps only the next different provisioned models, in their order."""
    decisions = []
    for d in gateway_plan.decisions:
        others = [m for m in ("chat-v3", "frontier", "reasoner") if m not in d.models]
        decisions.append(
            d.model_copy(update={"fallbacks": ("ticket-clf-8b", *d.models, others[0], others[0], *others[1:])})
        )
    result = gateway_plan.model_copy(update={"decisions": tuple(decisions)})
    policy = to_policy(result)
    for task, d in zip(policy["tasks"], decisions):
        routes = {r["model"] for r in task["routes"]}
        assert task["fallbacks"] == [m for m in ("chat-v3", "frontier", "reasoner") if m not in routes]
    config = to_litellm_config(result)
    assert "ticket-clf-8b" not in {e["model_name"] for e in config["model_list"]}
    weighted: dict[str, set[str]] = {}
    for e in config["model_list"]:
        if "weight" in e["litellm_params"]:
            weighted.setdefault(e["model_name"], set()).add(e["model_info"]["router_opt_model"])
    for rule in config["router_settings"]["fallbacks"]:
        ((group, targets),) = rule.items()
        assert not set(targets) & weighted[group] and len(targets) == len(set(targets))


def test_a_route_on_an_unprovisioned_deployment_is_refused(gateway_plan):
    first = gateway_plan.decisions[0]
    bad = first.model_copy(update={"models": ("ticket-clf-8b",), "shares": (1.0,)})
    result = gateway_plan.model_copy(update={"decisions": (bad, *gateway_plan.decisions[1:])})
    with pytest.raises(RouterOptError, match="ticket-clf-8b.*neither lists as a model nor provisions"):
        to_policy(result)


def test_self_hosted_routes_read_their_own_key(gateway_plan):
    config = to_litellm_config(gateway_plan)
    header = litellm_yaml(gateway_plan).split("model_list:")[0]
    self_hosted = [
        e["litellm_params"] for e in config["model_list"] if e["litellm_params"]["model"] == "openai/support-13b"
    ]
    assert len(self_hosted) >= 2  # its own entry and the task groups it carries
    for params in self_hosted:
        assert params["api_base"] == "os.environ/SUPPORT_13B_API_BASE"
        assert params["api_key"] == "os.environ/SUPPORT_13B_API_KEY"
    assert (
        "SUPPORT_13B_API_BASE, SUPPORT_13B_API_KEY: self-hosted support-13b: its server's URL and its own key" in header
    )
    assert "OPENAI_API_KEY: OpenAI models" in header and "left unset, LiteLLM sends OPENAI_API_KEY" in header


def test_a_self_hosted_model_cannot_borrow_a_provider_variable(gateway_plan):
    """A self-hosted model whose id slugs to a provider's name would read that provider's key: refused."""
    renamed = "openai"
    models = tuple(m.model_copy(update={"id": renamed}) if m.id == "support-13b" else m for m in gateway_plan.models)
    decisions = tuple(
        d.model_copy(update={"models": tuple(renamed if m == "support-13b" else m for m in d.models)})
        for d in gateway_plan.decisions
    )
    deployments = tuple(
        d.model_copy(update={"model": renamed}) if d.model == "support-13b" else d for d in gateway_plan.deployments
    )
    result = gateway_plan.model_copy(update={"models": models, "decisions": decisions, "deployments": deployments})
    with pytest.raises(RouterOptError, match="OPENAI_API_KEY would serve provider OpenAI and self-hosted openai"):
        to_litellm_config(result)


def test_blended_fallbacks_never_repeat_a_weighted_model():
    """Issue 14: in 29 of the bundled blended plan's 98 groups a fallback repeated a model the group
    already weights."""
    config = litellm_config("--mode", "blended")
    models = {
        e["model_name"]: e["litellm_params"]["model"]
        for e in config["model_list"]
        if "weight" not in e["litellm_params"]
    }
    weighted: dict[str, set[str]] = {}
    for e in config["model_list"]:
        if "weight" in e["litellm_params"]:
            weighted.setdefault(e["model_name"], set()).add(e["litellm_params"]["model"])
    assert sum(len(w) > 1 for w in weighted.values()) > 0
    repeats = [
        g
        for rule in config["router_settings"]["fallbacks"]
        for g, t in rule.items()
        if {models[m] for m in t} & weighted[g]
    ]
    assert repeats == []
