"""Placing imported models in the seven tiers: an editable mapping file of regular-expression rules,
then price bands for whatever no rule matches. The default is the bundled catalogs/tier-mapping.yaml."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from router_opt.bundled import bundled_path
from router_opt.errors import InputError
from router_opt.io.errors import problems_from
from router_opt.io.yaml_io import parse_yaml, yaml_locator
from router_opt.models import Tier

DEFAULT_TIER_MAPPING = "catalogs/tier-mapping.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, str_strip_whitespace=True)


def _compiles(pattern: str | None) -> str | None:
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
    return pattern


class TierRule(_Strict):
    """Models whose id (and provider, licence, where given) match go in `tier`."""

    tier: Tier
    match: str | None = None
    """Regular expression searched in the model id (case-insensitive)."""
    provider: str | None = None
    """Regular expression searched in the provider."""
    license: str | None = None
    """Regular expression searched in the licence (only sources that give one, such as Arena's)."""

    @field_validator("match", "provider", "license")
    @classmethod
    def _valid_pattern(cls, pattern: str | None) -> str | None:
        return _compiles(pattern)

    @model_validator(mode="after")
    def _something(self) -> TierRule:
        if self.match is None and self.provider is None and self.license is None:
            raise ValueError("a rule needs at least one of match, provider, license")
        return self

    def matches(self, model_id: str, provider: str, license: str | None) -> bool:
        for pattern, text in ((self.match, model_id), (self.provider, provider), (self.license, license)):
            if pattern is None:
                continue
            if text is None or not re.search(pattern, text, re.IGNORECASE):
                return False
        return True


class PriceBand(_Strict):
    tier: Tier
    from_usd_per_mtok: Annotated[float, Field(alias="from", ge=0, allow_inf_nan=False)]
    """Lowest blended $/M (3 input : 1 output) of the band."""


class TierMapping(_Strict):
    rules: tuple[TierRule, ...] = ()
    """Tried in order; the first that matches wins."""
    price_bands: tuple[PriceBand, ...] = Field(min_length=1)
    """For models no rule matches: the band with the highest `from` the blended price reaches."""

    @model_validator(mode="after")
    def _covers_zero(self) -> TierMapping:
        if min(b.from_usd_per_mtok for b in self.price_bands) != 0:
            raise ValueError("price_bands: one band must start `from: 0`, so that every price falls in a band")
        return self

    def tier_for(self, model) -> tuple[Tier, str]:
        """(tier, why) for a `PricedModel`. A model whose id says it does not reason
        (`grok-4-fast-non-reasoning`, `...-non-thinking`) is never Reasoning: rules for that tier are
        passed over for it, whatever their pattern (`reason` is found in `non-reasoning`)."""
        not_reasoning = NOT_REASONING.search(model.id) is not None
        passed_over = []
        for n, rule in enumerate(self.rules, start=1):
            if rule.matches(model.id, model.provider, model.license):
                if not_reasoning and rule.tier is Tier.REASONING:
                    passed_over.append(str(n))
                    continue
                what = ", ".join(
                    f"{k} '{v}'"
                    for k, v in (("match", rule.match), ("provider", rule.provider), ("license", rule.license))
                    if v
                )
                return rule.tier, f"rule {n} ({what})" + _passed_over(passed_over)
        price = model.blended_usd_per_mtok
        band = max((b for b in self.price_bands if price >= b.from_usd_per_mtok), key=lambda b: b.from_usd_per_mtok)
        why = f"price band from ${band.from_usd_per_mtok:g}/M (blended ${price:.4g}/M)" + _passed_over(passed_over)
        return band.tier, why


NOT_REASONING = re.compile(r"non[-_. ]?(reason|think)|no[-_. ]?think", re.IGNORECASE)
"""Ids that say the model does not reason: never placed in the Reasoning tier."""


def _passed_over(rules: list[str]) -> str:
    if not rules:
        return ""
    return f"; Reasoning rule {', '.join(rules)} passed over: the id says non-reasoning"


def load_tier_mapping(path: str | Path | None = None) -> tuple[TierMapping, str]:
    """The mapping in `path` (default: the bundled one) and a label naming it."""
    label = str(path) if path is not None else DEFAULT_TIER_MAPPING
    path = Path(path) if path is not None else bundled_path(DEFAULT_TIER_MAPPING)
    data = parse_yaml(path)
    if not isinstance(data, dict):
        raise InputError.single(str(path), "a tier mapping must be a YAML mapping with `rules:` and `price_bands:`")
    try:
        return TierMapping.model_validate(data), label
    except ValidationError as exc:
        raise InputError(problems_from(exc, str(path), yaml_locator(data))) from None
