"""The hostile-input corpus (tests/data/hostile, tests/hostile/): every case through the real console
script in its own process; each must exit 2 with file, line/row and field, or 0 with a result its
check confirms; never 1, never a traceback, each under 10 s and 1 GiB peak memory."""

from __future__ import annotations

import pytest

from tests.hostile.runner import LIMIT_BYTES, LIMIT_SECONDS, SHAPES, load_cases, problems, run_cases

CASES = load_cases()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    return run_cases(CASES, tmp_path_factory.mktemp("hostile"))


def test_the_corpus_is_whole():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert len(CASES) >= 150, len(CASES)
    assert {c.shape for c in CASES} <= SHAPES
    for case in CASES:
        assert case.exit in (0, 2), case.id
        assert case.why, case.id
        assert case.exit == 2 or case.check or case.output, f"{case.id}: an exit-0 case needs a check"
    assert LIMIT_SECONDS == 10 and LIMIT_BYTES == 2**30


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_case(case, outcomes):
    found = problems(case, outcomes[case.id])
    assert not found, "\n".join(found)
