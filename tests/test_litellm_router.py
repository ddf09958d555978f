"""Every config `export-policy` writes, loaded into the real `litellm.Router` (no network: mocked
responses, failure injection, and one real HTTP call to a local fake server).

For each plan (bundled defaults, each example policy, blended mode, a fixed-cost catalog, catalogs
imported from LiteLLM's price map and from genai-prices) the test suite checks that
(a) the router's own picker reproduces the plan's shares (chi-square goodness of fit at 2,000 picks),
(b) mocked failures walk the exported fallbacks in order, and
(c) no self-hosted route would receive another provider's key.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

# LiteLLM fetches its price map from GitHub when imported unless told to use its bundled copy.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm
import pytest
from litellm.integrations.custom_logger import CustomLogger
from ruamel.yaml import YAML
from scipy.stats import chisquare
from typer.testing import CliRunner

from router_opt.cli import app
from router_opt.export import group_name

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
GATEWAY = DATA / "gateway"
# shared/ sits beside the repository (as in CI); the tests that need its Arena files say so when it is absent.
ARENA = Path(__file__).resolve().parents[2] / "shared" / "external" / "arena-catalog"
PICKS = 2_000
# A pick through a router of 170 deployments costs ~2 ms of bookkeeping over all of them (cooldowns,
# policies), 0.5 ms through one holding only the group's: above this many entries the chi-square
# draws go through a router loaded with the group's exported entries alone.
LARGE = 40
OPENAI_KEY = "sk-openai-must-not-reach-self-hosted"
runner = CliRunner()

# Plans to export: optimize's arguments (the catalog may be built first by `catalog import`).
GATEWAY_ARGS = ["-c", str(GATEWAY / "catalog.yaml"), "-w", str(GATEWAY / "workload.csv")]
CONSTRAINTS = REPO / "examples" / "constraints"
CONSTRAINT_ARGS = ["-c", str(CONSTRAINTS / "catalog.yaml"), "-w", str(CONSTRAINTS / "workload.csv")]
IMPORTED_WORKLOAD = ["-w", str(GATEWAY / "imported-workload.csv")]
IMPORTS = {
    "litellm": ["--from", "litellm", str(DATA / "litellm-prices.json"), "--as-of", "2025-06-01"],
    "genai-prices": [
        "--from",
        "genai-prices",
        "--providers",
        "openai,anthropic,google",
        "--as-of",
        "2026-11-23",
        "--models",
        "^(gpt-4o|gpt-4o-mini|claude-sonnet-4-5|claude-3-5-haiku|gemini-2.5-flash)$",
    ],
    "arena": ["--from", "arena", str(ARENA), "--as-of", "2025-12-17"],
}
needs_arena = pytest.mark.skipif(not (ARENA / "leaderboard-text.json").is_file(), reason="Arena files not present")
CASES = {
    "default": ([], None),
    "default-blended": (["--mode", "blended"], None),
    **{
        f"policy-{p.stem}": (["-p", str(p)], None)
        for p in sorted((REPO / "policies").glob("*.yaml"))
        if "arena" not in p.stem
    },
    "policy-arena-example": (["-p", str(REPO / "policies" / "arena-example.yaml")], "arena"),
    "constraints": (CONSTRAINT_ARGS, None),
    **{
        f"constraints-{p.stem}": ([*CONSTRAINT_ARGS, "-p", str(p)], None)
        for p in sorted(CONSTRAINTS.glob("*.yaml"))
        if p.stem not in {"catalog", "infeasible"}
    },
    "gateway": (GATEWAY_ARGS, None),
    "gateway-blended": ([*GATEWAY_ARGS, "--mode", "blended"], None),
    "litellm-import": (IMPORTED_WORKLOAD, "litellm"),
    "litellm-import-blended": ([*IMPORTED_WORKLOAD, "--mode", "blended"], "litellm"),
    "genai-prices-import": (IMPORTED_WORKLOAD, "genai-prices"),
    "genai-prices-import-blended": ([*IMPORTED_WORKLOAD, "--mode", "blended"], "genai-prices"),
}
# Configs known to route to self-hosted models: check (c) must find some there.
WITH_SELF_HOSTED = {
    name for name in CASES if name.startswith(("default", "policy-default", "policy-budgets", "gateway", "constraints"))
}
BLENDED = {name for name in CASES if name.endswith("blended")}


def case_params():
    return [pytest.param(name, marks=needs_arena) if CASES[name][1] == "arena" else name for name in CASES]


def invoke(*args) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.stdout


class Exported:
    """One plan, saved as optimize writes it, and its LiteLLM config as `export-policy --plan` writes it."""

    def __init__(self, name: str, folder: Path) -> None:
        args, source = CASES[name]
        if source is not None:
            catalog = folder / f"{source}.yaml"
            if not catalog.exists():
                extra = [] if source == "arena" else ["--quality", GATEWAY / "quality.yaml"]
                invoke("catalog", "import", *IMPORTS[source], *extra, "-o", catalog)
            args = ["-c", str(catalog), *args]
        plan_path = folder / f"{name}.json"
        invoke("optimize", *args, "-f", "json", "--explain", "-o", plan_path)
        self.name = name
        self.plan = json.loads(plan_path.read_text())
        self.text = invoke("export-policy", "--plan", plan_path)
        self.config = YAML(typ="safe", pure=True).load(self.text)
        self.models = {m["id"]: m for m in self.plan["models"]}
        self.weighted: dict[str, list[dict]] = {}
        for entry in self.config["model_list"]:
            if "weight" in entry["litellm_params"]:
                self.weighted.setdefault(entry["model_name"], []).append(entry)
        self.fallbacks = {g: t for rule in self.config["router_settings"]["fallbacks"] for g, t in rule.items()}
        self.variables = sorted(set(re.findall(r"os\.environ/(\w+)", self.text)))

    def plan_shares(self) -> dict[str, dict[str, float]]:
        """The plan's own shares per task group (from its decision records, not from the config)."""
        return {
            group_name(d["department"], d["role"], d["task"]): dict(zip(d["models"], d["shares"]))
            for d in self.plan["decisions"]
        }

    def is_self_hosted(self, model_id: str) -> bool:
        model = self.models[model_id]
        return model["deployment"] == "self-hosted" or model["provider"].lower() == "self-hosted"


def dummy(variable: str) -> str:
    return "http://127.0.0.1:9/v1" if variable.endswith("_API_BASE") else f"dummy-{variable}"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """name -> (Exported, Router). Each config is exported and loaded once (two cases exporting the same
    text share one router); the environment variables it references hold dummy values (OPENAI_API_KEY a
    recognisable one) until the module ends."""
    folder = tmp_path_factory.mktemp("exported")
    cache: dict[str, tuple[Exported, litellm.Router] | Exception] = {}
    routers: dict[str, litellm.Router] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OPENAI_API_KEY", OPENAI_KEY)

        def load(name: str) -> tuple[Exported, litellm.Router]:
            exported = Exported(name, folder)
            for variable in exported.variables:
                if variable != "OPENAI_API_KEY":
                    mp.setenv(variable, dummy(variable))
            if exported.text not in routers:
                # Cooldowns off: a deployment failed on purpose in one walk must not be skipped in the next.
                routers[exported.text] = litellm.Router(
                    model_list=exported.config["model_list"],
                    **exported.config["router_settings"],
                    disable_cooldowns=True,
                )
            return exported, routers[exported.text]

        def get(name: str) -> tuple[Exported, litellm.Router]:
            if name not in cache:
                try:
                    cache[name] = load(name)
                except litellm.BadRequestError as error:  # refused once, refused for every test of the case
                    cache[name] = error
            if isinstance(cache[name], Exception):
                raise cache[name]
            return cache[name]

        yield get


def deployments(router: litellm.Router) -> list[dict]:
    return [dict(d) for d in router.registry().all()]


@pytest.mark.parametrize("name", case_params())
def test_router_loads_the_whole_config(loaded, name):
    exported, router = loaded(name)
    loaded_entries = deployments(router)
    assert len(loaded_entries) == len(exported.config["model_list"])  # nothing refused or merged
    assert Counter(d["model_name"] for d in loaded_entries) == Counter(
        e["model_name"] for e in exported.config["model_list"]
    )
    assert [dict(rule) for rule in router.settings().fallbacks] == exported.config["router_settings"]["fallbacks"]
    # every task of the plan is a routable group, and its stored weights are the plan's shares
    shares = exported.plan_shares()
    assert set(exported.weighted) == set(shares)
    stored: dict[str, dict[str, float]] = {}
    for d in loaded_entries:
        if "router_opt_model" in d["model_info"]:
            stored.setdefault(d["model_name"], {})[d["model_info"]["router_opt_model"]] = d["litellm_params"]["weight"]
    assert stored.keys() == shares.keys()
    for group, weights in stored.items():
        assert weights == pytest.approx(shares[group], abs=1e-12), group
    # nothing the plan leaves unprovisioned is named anywhere
    unprovisioned = {d["model"] for d in exported.plan["deployments"] if not d["provisioned"]}
    named = {e["model_name"] for e in exported.config["model_list"]} | {
        e["model_info"].get("router_opt_model") for e in exported.config["model_list"] if "model_info" in e
    }
    assert not named & unprovisioned


@pytest.mark.parametrize("name", case_params())
def test_picker_reproduces_the_plan_shares(loaded, name):
    """(a) Draws PICKS deployments per split group through the router's own selection
    (`get_available_deployment`, simple-shuffle) and tests them against the plan's shares (chi-square,
    p > 0.001; bins expecting fewer than 5 picks are pooled). The seed is fixed, so the test is
    repeatable; a wrong weight still fails it."""
    exported, router = loaded(name)
    shares = exported.plan_shares()
    split = sorted(g for g, entries in exported.weighted.items() if len(entries) >= 2)
    if name in BLENDED:
        assert split, "blended plans split tasks between models"
    for group in sorted(set(exported.weighted) - set(split))[:3]:  # a single route is always picked
        picked = {router.get_available_deployment(model=group)["model_info"]["router_opt_model"] for _ in range(20)}
        assert picked == set(shares[group])
    for group in _sample(split, shares):
        picker = router
        if len(exported.config["model_list"]) > LARGE:  # the same entries, without the other groups' overhead
            picker = litellm.Router(model_list=exported.weighted[group], **exported.config["router_settings"])
        random.seed(f"{name}:{group}")
        counts = Counter(
            picker.get_available_deployment(model=group)["model_info"]["router_opt_model"] for _ in range(PICKS)
        )
        assert set(counts) <= set(shares[group])
        p = chi_square_p(counts, shares[group])
        assert p > 0.001, (group, counts, shares[group], p)


def _sample(split: list[str], shares: dict) -> list[str]:
    """The split group to draw from: the one with the most routes, then the smallest share (the
    hardest to reproduce). A pick costs 0.5-2 ms of router bookkeeping, so 2,000 for each of the
    bundled blended plan's 62 split groups would take minutes; the picker treats every group alike,
    and test_router_loads_the_whole_config checks every group's loaded weights exactly."""
    return sorted(split, key=lambda g: (-len(shares[g]), min(shares[g].values()), g))[:1]


def chi_square_p(counts: Counter, shares: dict[str, float]) -> float:
    observed, expected = [], []
    pooled_observed = pooled_expected = 0.0
    for model, share in shares.items():
        if share * PICKS < 5:
            pooled_observed += counts.get(model, 0)
            pooled_expected += share * PICKS
        else:
            observed.append(counts.get(model, 0))
            expected.append(share * PICKS)
    if pooled_expected > 0:
        observed.append(pooled_observed)
        expected.append(pooled_expected)
    scale = sum(observed) / sum(expected)  # shares sum to 1 up to float error
    return float(chisquare(observed, [e * scale for e in expected]).pvalue) if len(observed) > 1 else 1.0


class Attempts(CustomLogger):
    """Records every call LiteLLM is about to send: (model group, deployment id)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str]] = []

    def log_pre_api_call(self, model, messages, kwargs):
        params = kwargs.get("litellm_params") or {}
        self.calls.append(
            ((params.get("metadata") or {}).get("model_group"), (params.get("model_info") or {}).get("id"))
        )


@pytest.fixture
def attempts(monkeypatch):
    recorder = Attempts()
    monkeypatch.setattr(litellm, "callbacks", [recorder])
    loggers = [logging.getLogger(name) for name in ("LiteLLM", "LiteLLM Router")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:  # each planned failure is otherwise logged with its traceback
        logger.setLevel(logging.CRITICAL)
    yield recorder
    for logger, level in zip(loggers, levels):
        logger.setLevel(level)


MESSAGES = [{"role": "user", "content": "Classify this ticket."}]


@pytest.mark.parametrize("name", case_params())
def test_mocked_failures_walk_the_fallbacks_in_order(loaded, attempts, name):
    """(b) Every model answers with an error (mock_response=Exception): the router tries the task's
    group, then each fallback in the exported order, each on that fallback's own deployment. Then with
    only the group failing (`mock_testing_fallbacks`) the first fallback answers (once per config). Retries within a
    group are off (num_retries=0) so that each attempt is one call. The walked groups cover the
    fallback targets (see _walks); the loaded fallbacks are compared with the exported ones for every
    group in test_router_loads_the_whole_config."""
    exported, router = loaded(name)
    by_id = {d["model_info"]["id"]: d for d in deployments(router)}
    walks = _walks(exported)
    if name.startswith(("default", "gateway")):
        assert walks, "these plans have fallbacks to walk"
    for group in walks:
        targets = exported.fallbacks[group]
        attempts.calls.clear()
        with pytest.raises(Exception, match="planned outage"):
            router.completion(model=group, messages=MESSAGES, mock_response=Exception("planned outage"), num_retries=0)
        walked = [g for g, _ in attempts.calls]
        assert walked == [group, *targets], group
        assert by_id[attempts.calls[0][1]]["model_name"] == group
        for (fallback_group, deployment_id), target in zip(attempts.calls[1:], targets):
            assert by_id[deployment_id]["model_name"] == target == fallback_group
    if walks:  # only the group failing: its first fallback answers
        group = walks[0]
        response = router.completion(model=group, messages=MESSAGES, mock_testing_fallbacks=True, mock_response="ok")
        assert by_id[response._hidden_params["model_id"]]["model_name"] == exported.fallbacks[group][0]


def _walks(exported: Exported, most: int = 3) -> list[str]:
    """Groups whose walks cover the config's fallback targets (the walk depends on nothing else), the
    longest list first, at most `most` (a walk costs 0.1-0.3 s and the bundled plans have 98 groups)."""
    chosen: list[str] = []
    seen: set[str] = set()
    for group, targets in sorted(exported.fallbacks.items(), key=lambda item: (-len(item[1]), item[0])):
        if len(chosen) < most and not set(targets) <= seen:
            chosen.append(group)
            seen |= set(targets)
    return chosen


@pytest.mark.parametrize("name", case_params())
def test_self_hosted_routes_carry_their_own_key(loaded, name):
    """(c) Every self-hosted deployment the router holds (task routes and fallback entries) resolved
    its own <MODEL>_API_KEY and <MODEL>_API_BASE, never OPENAI_API_KEY; every API deployment resolved
    the key of the variable its entry names."""
    exported, router = loaded(name)
    self_hosted = 0
    for d in deployments(router):
        model_id = d["model_info"].get("router_opt_model", d["model_name"])
        params = d["litellm_params"]
        entry_refs = [e["litellm_params"] for e in exported.config["model_list"] if e["model_name"] == d["model_name"]]
        if exported.is_self_hosted(model_id):
            self_hosted += 1
            own = re.sub(r"[^A-Z0-9]+", "_", model_id.upper()).strip("_")
            assert params["api_key"] == f"dummy-{own}_API_KEY" != OPENAI_KEY
            assert params["api_base"] == dummy(f"{own}_API_BASE")
        else:
            assert "api_base" not in params or params["api_base"] is None
            assert any(
                params["api_key"] == dummy(ref["api_key"].removeprefix("os.environ/"))
                or (ref["api_key"] == "os.environ/OPENAI_API_KEY" and params["api_key"] == OPENAI_KEY)
                for ref in entry_refs
            )
    assert (self_hosted > 0) == (name in WITH_SELF_HOSTED)
    if self_hosted:  # documented where an operator reads it
        assert "its own key" in exported.text.split("model_list:")[0]


# --- one real HTTP call ----------------------------------------------------------------------------


class _FakeOpenAI(BaseHTTPRequestHandler):
    """An OpenAI-compatible chat endpoint that records the Authorization header of each request."""

    seen: ClassVar[list[tuple[str, str | None, str | None]]] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        self.seen.append((self.path, self.headers.get("Authorization"), body.get("model")))
        reply = json.dumps(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model"),
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": "FAQ answer"}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def fake_server():
    """A local server on a free port that serves at most a few requests and stops after 20 s whatever
    happens (a hung test cannot leave it running)."""
    _FakeOpenAI.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    stopper = threading.Timer(20, server.shutdown)
    stopper.daemon = True
    stopper.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", _FakeOpenAI.seen
    finally:
        stopper.cancel()
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_self_hosted_server_receives_its_own_key_over_http(tmp_path, monkeypatch, fake_server):
    """The fixed-cost catalog's provisioned self-hosted model (support-13b) answers the FAQ group from a
    local fake OpenAI-compatible server: the request arrives with the model's own key, and the
    OpenAI key (set too, as on any gateway that also serves OpenAI) never reaches it."""
    base, seen = fake_server
    config = YAML(typ="safe", pure=True).load(invoke("export-policy", *GATEWAY_ARGS))
    group = group_name("Support", "Agent", "FAQ answering")
    routes = [e["litellm_params"] for e in config["model_list"] if e["model_name"] == group]
    assert [r["model"] for r in routes] == ["openai/support-13b"]  # the plan sends the FAQ volume there
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("SUPPORT_13B_API_BASE", base)
    monkeypatch.setenv("SUPPORT_13B_API_KEY", "sk-support-13b-own")
    for variable in set(re.findall(r"os\.environ/(\w+)", json.dumps(config))) - {
        "SUPPORT_13B_API_BASE",
        "SUPPORT_13B_API_KEY",
        "OPENAI_API_KEY",
    }:
        monkeypatch.setenv(variable, dummy(variable))
    router = litellm.Router(model_list=config["model_list"], **config["router_settings"])
    response = router.completion(model=group, messages=MESSAGES, num_retries=0, timeout=10)
    assert response.choices[0].message.content == "FAQ answer"
    assert seen == [("/v1/chat/completions", "Bearer sk-support-13b-own", "support-13b")]
