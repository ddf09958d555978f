"""`router-opt catalog check A B`: where two price sources disagree on the same model at the same host.

A source is a catalog YAML, a LiteLLM-style price map (.json), an Arena catalog folder, or the word
`genai-prices` (the installed package's bundled snapshot). Models are joined by the id rule of
`router_opt.importers.common` (lower case, provider prefix dropped, a trailing date dropped only where
that is unambiguous), and like with like: only entries of the same host are compared (the same model
resold by OCI and by OpenRouter has two honest prices). Hosts are named in one vocabulary for both
sources (`router_opt.gateway.provider_host`: genai-prices' `google` is LiteLLM's `gemini` and every
`vertex_ai-*`; `aws` is `bedrock` and `bedrock_converse`; ...), and so is `--providers`, so one list
selects the same hosts in both. When one source lists a model several times at one host, the entry
spelled without a prefix is compared, else the first. Each difference names both sides' own provider.

Relative difference = |A − B| / max(A, B), symmetric and in [0, 1]; a model is listed when its input or
its output price differs by more than the tolerance.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from router_opt.gateway import litellm_provider, provider_host
from router_opt.importers.common import PricedModel, model_key, pair_keys, preferred


class PriceTable(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    label: str
    prices_as_of: date | None
    models: tuple  # tuple[PricedModel, ...]


def load_price_table(spec: str, providers: list[str] | None = None, as_of: date | None = None) -> PriceTable:
    """A price source named on the command line."""
    if spec.strip().lower() in {"genai-prices", "genai_prices"}:
        from router_opt.importers.genai_prices import prices_from_genai_prices

        src = prices_from_genai_prices(
            providers=providers or ["all"], as_of=as_of, include_deprecated=True, lenient_providers=True
        )
        return PriceTable(label=src.label, prices_as_of=src.prices_as_of, models=src.models)
    path = Path(spec)
    if path.is_dir():
        from router_opt.importers.arena import prices_from_arena

        src = prices_from_arena(path, as_of=as_of)
        return PriceTable(label=src.label, prices_as_of=src.prices_as_of, models=src.models)
    if path.suffix.lower() == ".json":
        from router_opt.importers.litellm import prices_from_litellm

        src = prices_from_litellm(path, providers=providers, as_of=as_of)
        return PriceTable(label=src.label, prices_as_of=src.prices_as_of, models=src.models)
    from router_opt.io import load_catalog

    catalog = load_catalog(path)
    wanted = {provider_host(p) for p in providers} if providers else None
    models = tuple(
        PricedModel(
            id=m.id,
            provider=m.provider,
            input_usd_per_mtok=m.input_usd_per_mtok,
            output_usd_per_mtok=m.output_usd_per_mtok,
        )
        for m in catalog.models
        if wanted is None or provider_host(m.provider) in wanted
    )
    return PriceTable(label=f"catalog {path}", prices_as_of=catalog.prices_as_of, models=models)


def relative_difference(a: float, b: float) -> float:
    high = max(abs(a), abs(b))
    return 0.0 if high == 0 else abs(a - b) / high


class PriceMismatch(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    host: str
    """Who serves both entries, in the one provider vocabulary (`router_opt.gateway.provider_host`)."""
    a_id: str
    a_provider: str
    """A's own name for the provider (a genai-prices id, a LiteLLM `litellm_provider`, a catalog's provider)."""
    b_id: str
    b_provider: str
    a_input_usd_per_mtok: float
    b_input_usd_per_mtok: float
    input_difference: float
    a_output_usd_per_mtok: float
    b_output_usd_per_mtok: float
    output_difference: float


class CheckResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    a: str
    b: str
    tolerance: float
    joined: int
    """(model, host) pairs in both sources: the comparisons made."""
    other_hosts_only: int = 0
    """Models in both sources, but at no common host: not compared."""
    only_in_a: int
    only_in_b: int
    mismatches: tuple[PriceMismatch, ...]


def _host(model: PricedModel) -> str:
    """The host in the one vocabulary and, where the host sells through a second API with its own price
    list, that API as LiteLLM names it: `google` (AI Studio) but `google/vertex_ai`, `aws` (Bedrock) but
    `aws/bedrock_mantle`, `azure` but `azure/azure_ai`."""
    provider = model.provider_key or model.provider
    host = provider_host(provider)
    route = (litellm_provider(provider, model_key(model.id)) or "").split("/")[0]
    if route in {"", host, _MAIN_API.get(host)} or provider_host(route) != host:
        return host
    return f"{host}/{route}"


_MAIN_API = {
    "google": "gemini",
    "aws": "bedrock",
    "x-ai": "xai",
    "together": "together_ai",
    "fireworks": "fireworks_ai",
    "moonshotai": "moonshot",
    "meta": "meta_llama",
    "github-copilot": "github_copilot",
}
"""Each host's main API, LiteLLM's name for it (shown as the bare host)."""


def _index(table: PriceTable) -> dict[str, dict[str, list[PricedModel]]]:
    """Model key -> host -> the entries listed there (the first is the one compared unless the other
    side lists the same region: the one spelled without a prefix, else the first listed)."""
    grouped: dict[str, dict[str, list[PricedModel]]] = {}
    for m in table.models:
        grouped.setdefault(model_key(m.id), {}).setdefault(_host(m), []).append(m)
    for hosts in grouped.values():
        for host, entries in hosts.items():
            chosen = preferred([e.id for e in entries])
            hosts[host] = sorted(entries, key=lambda e: e.id != chosen)
    return grouped


_REGION = re.compile(
    r"^(?:[a-z_]+/)*?(?P<path>(?:us|eu|ap|ca|sa|me|af|il|mx)(?:-[a-z]+)+-\d)/|^(?:[a-z_]+/)?(?P<dot>us-gov|us|eu|apac|jp|au|global)\."
    r"|^azure/(?P<azure>eu|us|global)/",
    re.IGNORECASE,
)


def _region(model_id: str) -> str:
    """The region an id names (`us.` / `eu.` / `global.` Bedrock profiles, `bedrock/eu-west-3/...`,
    `azure/eu/...`), '' for none: a regional price is compared with the same region's where both list it."""
    found = _REGION.search(model_id)
    if not found:
        return ""
    return (found.group("path") or found.group("dot") or found.group("azure")).lower()


def _pick(left: list[PricedModel], right: list[PricedModel]) -> tuple[PricedModel, PricedModel]:
    """The entries compared: the same region on both sides where there is one, else each side's first."""
    for a in left:
        for b in right:
            if _region(a.id) == _region(b.id):
                return a, b
    return left[0], right[0]


def check_prices(a: PriceTable, b: PriceTable, tolerance: float = 0.05) -> CheckResult:
    left, right = _index(a), _index(b)
    pairs = pair_keys(left, right)
    mismatches = []
    joined = other_hosts_only = 0
    for lkey, rkey in sorted(pairs.items()):
        hosts = sorted(set(left[lkey]) & set(right[rkey]))
        if not hosts:
            other_hosts_only += 1
            continue
        for host in hosts:
            joined += 1
            ma, mb = _pick(left[lkey][host], right[rkey][host])
            din = relative_difference(ma.input_usd_per_mtok, mb.input_usd_per_mtok)
            dout = relative_difference(ma.output_usd_per_mtok, mb.output_usd_per_mtok)
            if din > tolerance or dout > tolerance:
                mismatches.append(
                    PriceMismatch(
                        key=lkey,
                        host=host,
                        a_id=ma.id,
                        a_provider=ma.provider_key or ma.provider,
                        b_id=mb.id,
                        b_provider=mb.provider_key or mb.provider,
                        a_input_usd_per_mtok=ma.input_usd_per_mtok,
                        b_input_usd_per_mtok=mb.input_usd_per_mtok,
                        input_difference=din,
                        a_output_usd_per_mtok=ma.output_usd_per_mtok,
                        b_output_usd_per_mtok=mb.output_usd_per_mtok,
                        output_difference=dout,
                    )
                )
    mismatches.sort(key=lambda m: (-max(m.input_difference, m.output_difference), m.key, m.host))
    return CheckResult(
        a=a.label,
        b=b.label,
        tolerance=tolerance,
        joined=joined,
        other_hosts_only=other_hosts_only,
        only_in_a=len(left) - len(pairs),
        only_in_b=len(right) - len(set(pairs.values())),
        mismatches=tuple(mismatches),
    )


def render_check(result: CheckResult, output_format: str) -> str:
    """table, markdown, json or csv."""
    if output_format == "json":
        return result.model_dump_json(indent=2) + "\n"
    if output_format == "csv":
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        fields = list(PriceMismatch.model_fields)
        writer.writerow(fields)
        for m in result.mismatches:
            writer.writerow([repr(v) if isinstance(v, float) else v for v in (getattr(m, f) for f in fields)])
        return out.getvalue()
    from router_opt import formatting as fmt
    from router_opt.report import Section, render_sections

    def pct(x: float) -> str:
        return f"{x * 100:.1f}%"

    rows = tuple(
        (
            m.a_id,
            m.a_provider,
            "=" if m.b_id == m.a_id else m.b_id,
            m.b_provider,
            fmt.usd(m.a_input_usd_per_mtok),
            fmt.usd(m.b_input_usd_per_mtok),
            pct(m.input_difference),
            fmt.usd(m.a_output_usd_per_mtok),
            fmt.usd(m.b_output_usd_per_mtok),
            pct(m.output_difference),
        )
        for m in result.mismatches
    )
    section = Section(
        f"Price differences above {result.tolerance * 100:g}%: {len(result.mismatches)} of {result.joined} "
        "model-host pairs in both",
        (
            "Model in A",
            "A host",
            "in B",
            "B host",
            "A input $/M",
            "B input $/M",
            "Input diff",
            "A output $/M",
            "B output $/M",
            "Output diff",
        ),
        rows or (("(none)", "", "", "", "", "", "", "", "", ""),),
        frozenset({4, 5, 6, 7, 8, 9}),
    )
    preamble = (
        f"A: {result.a}\nB: {result.b}\n"
        f"{result.joined} model-host pairs in both (the same model at the same host; hosts named as genai-prices "
        f"names providers), {result.other_hosts_only} models in both at different hosts only (not compared), "
        f"{result.only_in_a} models only in A, {result.only_in_b} only in B; difference = |A - B| / max(A, B)"
    )
    return render_sections([section], output_format, preamble=preamble)
