"""Quality and prices from the Arena catalog files (the lmarena/arena-catalog repository's data/ folder):

- `leaderboard-text.json`: category -> model -> {rating, rating_q025, rating_q975}: Arena ratings
  (Elo-style, not percentages) with a 95% interval;
- `scatterplot-data.json`: a list of models with `model_api_name`, `input_token_price` and
  `output_token_price` (USD per million tokens, as strings; some empty), `organization`, `license`.

The two are joined on `model_api_name`. Task types take the rating of one category each, by the
editable mapping catalogs/arena-task-types.yaml. `use="lower-bound"` takes `rating_q025` instead of
`rating` (as the Wilson lower bound does for evals). The quality scale is elo, from the lowest score
rounded down to the highest rounded up, to the hundred.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from router_opt.bundled import bundled_path
from router_opt.errors import InputError, RouterOptError
from router_opt.importers.common import PricedModel, PriceSource, finite_price
from router_opt.importers.quality import QualityFile
from router_opt.io.errors import problems_from
from router_opt.io.text import read_text
from router_opt.io.yaml_io import parse_yaml, yaml_locator
from router_opt.models import QualityScale

LEADERBOARD = "leaderboard-text.json"
PRICES = "scatterplot-data.json"
DEFAULT_ARENA_MAP = "catalogs/arena-task-types.yaml"

Name = Annotated[str, Field(min_length=1, max_length=200)]


class ArenaMapping(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    task_types: dict[Name, Name] = Field(min_length=1)
    """router-opt task type -> Arena category."""


def load_arena_map(path: str | Path | None = None) -> tuple[ArenaMapping, str]:
    label = str(path) if path is not None else DEFAULT_ARENA_MAP
    path = Path(path) if path is not None else bundled_path(DEFAULT_ARENA_MAP)
    data = parse_yaml(path)
    if not isinstance(data, dict):
        raise InputError.single(str(path), "an Arena mapping must be a YAML mapping with `task_types:`")
    try:
        return ArenaMapping.model_validate(data), label
    except ValidationError as exc:
        raise InputError(problems_from(exc, str(path), yaml_locator(data))) from None


def _json(path: Path):
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError.single(str(path), f"not valid JSON: {exc.msg}", line=exc.lineno, column=exc.colno) from None


def _folder(directory: str | Path) -> Path:
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError.single(str(directory), f"expected the Arena catalog folder (with {LEADERBOARD} and {PRICES})")
    return directory


def read_leaderboard(directory: str | Path) -> dict:
    path = _folder(directory) / LEADERBOARD
    data = _json(path)
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise InputError.single(str(path), "expected category -> model -> {rating, rating_q025, rating_q975}")
    return data


def quality_from_arena(
    directory: str | Path,
    use: str = "mean",
    mapping: ArenaMapping | None = None,
    mapping_label: str = DEFAULT_ARENA_MAP,
) -> tuple[QualityFile, list[str]]:
    """Model -> task type -> rating (or its 2.5% quantile), on an elo scale."""
    if use not in {"mean", "lower-bound"}:
        raise ValueError("use must be 'mean' or 'lower-bound'")
    if mapping is None:
        mapping, mapping_label = load_arena_map()
    board = read_leaderboard(directory)
    missing = sorted({c for c in mapping.task_types.values() if c not in board})
    if missing:
        raise RouterOptError(
            f"{mapping_label}: categor(ies) {', '.join(missing)} not in {LEADERBOARD} "
            f"(categories: {', '.join(sorted(board))})"
        )
    key = "rating" if use == "mean" else "rating_q025"
    # No `evidence` section: the intervals are in the leaderboard file itself, and a YAML file of
    # every model's figures three times over is slow to read back.
    scores: dict[str, dict[str, float]] = {}
    for task_type, category in mapping.task_types.items():
        for model, figures in board[category].items():
            value = figures.get(key) if isinstance(figures, dict) else None
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                continue
            scores.setdefault(model, {})[task_type] = round(float(value), 2)
    if not scores:
        raise RouterOptError(f"{LEADERBOARD}: no ratings found for the mapped categories")
    values = [v for s in scores.values() for v in s.values()]
    scale = QualityScale(min=math.floor(min(values) / 100) * 100, max=math.ceil(max(values) / 100) * 100, unit="elo")
    method = "Arena rating" if use == "mean" else "Arena rating_q025 (lower end of the 95% interval)"
    quality = QualityFile(
        quality_scale=scale,
        source=f"Arena leaderboard {Path(directory).name}/{LEADERBOARD}, categories by {mapping_label}",
        method=method,
        models=scores,
    )
    notes = [
        (
            f"{len(scores)} models x {len(mapping.task_types)} task types from {len(set(mapping.task_types.values()))} "
            f"Arena categories; score = {method}; scale {scale.min:g}..{scale.max:g} elo (thresholds must be ratings too)"
        )
    ]
    return quality, notes


def prices_from_arena(directory: str | Path, as_of: date | None = None) -> PriceSource:
    """The price file's models with both prices (USD per million tokens)."""
    path = _folder(directory) / PRICES
    data = _json(path)
    if not isinstance(data, list):
        raise InputError.single(str(path), "expected a list of models with model_api_name and prices")
    if as_of is None:
        as_of = datetime.fromtimestamp(path.stat().st_mtime).date()
        date_note = f"the file's modification date {as_of.isoformat()} (give --as-of for the data's own date)"
    else:
        date_note = f"{as_of.isoformat()} (given with --as-of)"
    out, no_price, seen = [], [], set()
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or not entry.get("model_api_name"):
            raise InputError.single(str(path), f"entry {i} has no model_api_name")
        name = str(entry["model_api_name"]).strip()
        if name in seen:
            continue
        seen.add(name)
        input_usd = finite_price(entry.get("input_token_price"))
        output_usd = finite_price(entry.get("output_token_price"))
        if input_usd is None or output_usd is None:
            no_price.append(name)
            continue
        notes = []
        if entry.get("price_source"):
            notes.append(f"Arena's price source: {entry['price_source']}")
        if entry.get("hidden"):
            notes.append("hidden on Arena's price chart (an older model)")
        out.append(
            PricedModel(
                id=name,
                provider=str(entry.get("organization") or "unknown").strip() or "unknown",
                input_usd_per_mtok=input_usd,
                output_usd_per_mtok=output_usd,
                license=str(entry.get("license") or "").strip() or None,
                notes=tuple(notes),
            )
        )
    notes = [f"{len(out)} models priced from {PRICES}, prices as of {date_note}"]
    if no_price:
        notes.append(f"skipped {len(no_price)} without a price: {', '.join(no_price)}")
    return PriceSource(
        label=f"Arena {Path(directory).name}/{PRICES}",
        prices_as_of=as_of,
        models=tuple(out),
        header=(
            f"Source: the Arena catalog files in {directory} ({PRICES} for prices, {LEADERBOARD} for quality),",
            "joined on model_api_name.",
            f"Price date: {date_note}.",
        ),
        notes=tuple(notes),
        default_name="arena-catalog",
    )
