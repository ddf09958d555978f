"""`router-opt catalog check A B`: where two price sources disagree on the same model.

A source is a catalog YAML, a LiteLLM-style price map (.json), an Arena catalog folder, or the word
`genai-prices` (the installed package's bundled snapshot). Models are joined by the id rule of
`router_opt.importers.common` (lower case, provider prefix dropped, a trailing date dropped only where
that is unambiguous). When one source lists a model several times (the same model at several
providers), the entry spelled without a prefix is compared, else the first.

Relative difference = |A − B| / max(A, B), symmetric and in [0, 1]; a model is listed when its input or
its output price differs by more than the tolerance.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from router_opt.importers.common import PricedModel, group_by_key, pair_keys, preferred


class PriceTable(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    label: str
    prices_as_of: date | None
    models: tuple  # tuple[PricedModel, ...]


def load_price_table(spec: str, providers: list[str] | None = None, as_of: date | None = None) -> PriceTable:
    """A price source named on the command line."""
    if spec.strip().lower() in {"genai-prices", "genai_prices"}:
        from router_opt.importers.genai_prices import prices_from_genai_prices

        src = prices_from_genai_prices(providers=providers or ["all"], as_of=as_of, include_deprecated=True)
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
    models = tuple(
        PricedModel(
            id=m.id, provider=m.provider, input_usd_per_mtok=m.input_usd_per_mtok, output_usd_per_mtok=m.output_usd_per_mtok
        )
        for m in catalog.models
    )
    return PriceTable(label=f"catalog {path}", prices_as_of=catalog.prices_as_of, models=models)


def relative_difference(a: float, b: float) -> float:
    high = max(abs(a), abs(b))
    return 0.0 if high == 0 else abs(a - b) / high


class PriceMismatch(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    a_id: str
    b_id: str
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
    only_in_a: int
    only_in_b: int
    mismatches: tuple[PriceMismatch, ...]


def check_prices(a: PriceTable, b: PriceTable, tolerance: float = 0.05) -> CheckResult:
    def index(table: PriceTable) -> dict[str, PricedModel]:
        """Key -> the entry compared (the one spelled without a prefix, else the first listed)."""
        by_id: dict[str, PricedModel] = {}
        for m in table.models:
            by_id.setdefault(m.id, m)
        return {key: by_id[preferred(ids)] for key, ids in group_by_key(m.id for m in table.models).items()}

    left, right = index(a), index(b)
    pairs = pair_keys(left, right)
    mismatches = []
    for lkey, rkey in sorted(pairs.items()):
        ma, mb = left[lkey], right[rkey]
        din = relative_difference(ma.input_usd_per_mtok, mb.input_usd_per_mtok)
        dout = relative_difference(ma.output_usd_per_mtok, mb.output_usd_per_mtok)
        if din > tolerance or dout > tolerance:
            mismatches.append(
                PriceMismatch(
                    key=lkey,
                    a_id=ma.id,
                    b_id=mb.id,
                    a_input_usd_per_mtok=ma.input_usd_per_mtok,
                    b_input_usd_per_mtok=mb.input_usd_per_mtok,
                    input_difference=din,
                    a_output_usd_per_mtok=ma.output_usd_per_mtok,
                    b_output_usd_per_mtok=mb.output_usd_per_mtok,
                    output_difference=dout,
                )
            )
    mismatches.sort(key=lambda m: (-max(m.input_difference, m.output_difference), m.key))
    return CheckResult(
        a=a.label,
        b=b.label,
        tolerance=tolerance,
        joined=len(pairs),
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
            "=" if m.b_id == m.a_id else m.b_id,
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
        f"Price differences above {result.tolerance * 100:g}%: {len(result.mismatches)} of {result.joined} models in both",
        ("Model in A", "in B", "A input $/M", "B input $/M", "Input diff", "A output $/M", "B output $/M", "Output diff"),
        rows or (("(none)", "", "", "", "", "", "", ""),),
        frozenset({2, 3, 4, 5, 6, 7}),
    )
    preamble = (
        f"A: {result.a}\nB: {result.b}\n"
        f"{result.joined} models in both, {result.only_in_a} only in A, {result.only_in_b} only in B; "
        "difference = |A - B| / max(A, B)"
    )
    return render_sections([section], output_format, preamble=preamble)
