"""export-policy: the LiteLLM config has LiteLLM's documented shape and the neutral policy's shares
add up; both come from the same plan."""

from __future__ import annotations

import json

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from router_opt.cli import app

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
