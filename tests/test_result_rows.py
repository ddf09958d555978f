"""The vectorised row builders in result.py against plain-Python references."""

from __future__ import annotations

import numpy as np
import pytest

from router_opt.result import Assignment, _first_k, _ordered, _rows


def _reference(mask, key, k=None):
    out = []
    for r in range(mask.shape[0]):
        cols = sorted((key[r, c], c) for c in range(mask.shape[1]) if mask[r, c])
        out.append(tuple(c for _, c in cols[:k]))
    return out


@pytest.mark.parametrize("seed", range(20))
def test_ordered_and_first_k_match_sorting_with_ties(seed):
    rng = np.random.default_rng(seed)
    rows, cols = rng.integers(1, 30), rng.integers(1, 12)
    mask = rng.random((rows, cols)) < rng.random()
    key = rng.integers(0, 4, size=(rows, cols)).astype(float)  # few distinct keys: many ties
    assert _ordered(mask, key, lambda r, c: c) == _reference(mask, key)
    for k in (1, 3, cols + 2):
        assert _first_k(mask, key, np.arange(cols), k) == _reference(mask, key, k)


def test_rows_equal_model_construct_and_serialise_alike():
    values = {
        "department": "D", "role": "R", "task": "T", "task_type": "faq", "model": "m", "tier": "Instruct", "share": 0.25,
        "invocations_per_day": 4.0, "usd_per_invocation": 0.5, "usd_per_day": 2.0, "quality": 80.0, "baseline_usd_per_day": 3.0,
    }
    (fast,) = _rows(Assignment, **{name: [value] for name, value in values.items()})
    slow = Assignment.model_construct(**values)
    assert fast == slow
    assert fast.model_dump_json() == slow.model_dump_json()
    assert fast.model_fields_set == slow.model_fields_set


def test_rows_refuses_missing_columns():
    with pytest.raises(TypeError, match="share"):
        _rows(Assignment, department=["D"])
