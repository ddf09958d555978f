"""Loading the economics data files (`catalogs/economics/*.yaml`) into strict pydantic models, with
the same file:line:field error messages as catalogs and policies."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from router_opt.bundled import bundled_path
from router_opt.errors import InputError
from router_opt.io.errors import problems_from
from router_opt.io.yaml_io import parse_yaml, yaml_locator

ECONOMICS_DIR = "catalogs/economics"
REASONING_TABLE = f"{ECONOMICS_DIR}/reasoning-multiplier-2025.yaml"
PRICE_TRAJECTORY = f"{ECONOMICS_DIR}/price-trajectory-2024-2030.yaml"
SELF_HOSTING = f"{ECONOMICS_DIR}/self-hosting-2026.yaml"
TRAINING_EXAMPLE = f"{ECONOMICS_DIR}/training-cost-example.yaml"

Data = TypeVar("Data", bound=BaseModel)


class DataFile(BaseModel):
    """Base of every economics data file: frozen, and a typo in a key is an error, not ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def load_data_file(path: str | Path, schema: type[Data], what: str) -> Data:
    """Read the YAML file at `path` and validate it as `schema`; problems name file, line and field."""
    path = Path(path)
    data = parse_yaml(path)
    if not isinstance(data, dict):
        raise InputError.single(str(path), f"a {what} file must be a YAML mapping (key: value lines) at the top")
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise InputError(problems_from(exc, str(path), yaml_locator(data))) from None


def load_bundled_or(path: str | Path | None, default: str, schema: type[Data], what: str) -> Data:
    """The file at `path`, or the bundled `default` (a path relative to the checkout) when None."""
    return load_data_file(path if path is not None else bundled_path(default), schema, what)
