"""Recipes and checks for the YAML cases (tests/data/hostile/yaml)."""

from __future__ import annotations

from pathlib import Path

from tests.hostile.runner import ROOT

BUNDLED_CATALOG = ROOT / "catalogs" / "seven-tiers-2025.yaml"


def base_catalog_with(path: Path, replace: tuple[str, str] | None = None) -> None:
    """The bundled catalog, with one text replaced (it must occur)."""
    text = BUNDLED_CATALOG.read_text()
    if replace:
        assert replace[0] in text, replace[0]
        text = text.replace(replace[0], replace[1], 1)
    path.write_text(text)


RECIPES = {"base_catalog_with": base_catalog_with}
CHECKS: dict = {}
