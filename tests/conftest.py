"""Fixtures shared by the tests."""

from __future__ import annotations

import pytest

from router_opt.models import Catalog

from .helpers import make_catalog


@pytest.fixture
def tiny_catalog() -> Catalog:
    return make_catalog(
        [
            {"id": "large", "input": 3.0, "output": 15.0, "quality": {"general": 90, "code": 92}},
            {"id": "small", "input": 0.15, "output": 0.60, "quality": {"general": 80, "code": 70}},
            {"id": "tuned", "input": 0.04, "output": 0.04, "quality": {"general": 86}},
        ]
    )
