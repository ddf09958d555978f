"""An LP held open by HiGHS (engine/backends.py `LPSession`): columns added after a solve, solved
again from the basis the last run ended on. What the decomposition's sifting relies on."""

from __future__ import annotations

import numpy as np
import pytest

from router_opt.engine.backends import BACKENDS, BASIS_BASIC, BASIS_LOWER, BASIS_UPPER, Status
from router_opt.engine.program import LinearProgram


def two_by_two() -> LinearProgram:
    """max x + y subject to x + 2y <= 4 and 3x + y <= 6 (as min -x - y): by hand the corner where
    both rows bind, x = 1.6, y = 1.2, value -2.8; the rows' duals -0.4 and -0.2."""
    return LinearProgram(
        col_cost=np.array([-1.0, -1.0]),
        col_upper=np.array([np.inf, np.inf]),
        col_integer=np.zeros(2, dtype=bool),
        row_start=np.array([0, 2, 4]),
        row_index=np.array([0, 1, 0, 1]),
        row_value=np.array([1.0, 2.0, 3.0, 1.0]),
        row_lower=np.array([-np.inf, -np.inf]),
        row_upper=np.array([4.0, 6.0]),
        pair_task=np.zeros(0, dtype=np.int64),
        pair_model=np.zeros(0, dtype=np.int64),
        charges=(),
        coupling=[],
        first_coupling_row=0,
        quality_rows=None,
    )


def test_highspy_keeps_the_lp_open_and_goes_on_from_its_basis():
    backend = BACKENDS["highspy"]
    assert backend.capabilities.add_columns
    session = backend.open(two_by_two(), presolve=False)
    first = session.run(keep_basis=True)
    assert first.status is Status.OPTIMAL
    assert first.x == pytest.approx([1.6, 1.2])
    assert first.row_dual == pytest.approx([-0.4, -0.2])
    # A column z (cost -3, 1 in each row) prices at -3 + 0.4 + 0.2 = -2.4 < 0 at those duals: it
    # enters. By hand (the dual min 4u + 6v with u + v >= 3 and the others slack): z = 4 alone,
    # value -12, duals (-3, 0).
    session.add_columns(np.array([-3.0]), np.array([np.inf]), np.array([0, 2]), np.array([0, 1]), np.array([1.0, 1.0]))
    second = session.run(keep_basis=True)
    assert second.status is Status.OPTIMAL
    assert second.x == pytest.approx([0.0, 0.0, 4.0])
    assert float(np.array([-1.0, -1.0, -3.0]) @ second.x) == pytest.approx(-12.0)
    assert second.row_dual == pytest.approx([-3.0, 0.0])
    # From the last basis: two pivots at most (z in, x and y out), not a solve from scratch.
    assert session.highs.getInfo().simplex_iteration_count <= 2
    # The basis it ended on: z basic, x and y at 0; row 0 at its bound, row 1's slack basic (4 < 6).
    col_status, row_status = second.basis()
    assert col_status.tolist() == [BASIS_LOWER, BASIS_LOWER, BASIS_BASIC]
    assert row_status.tolist() == [BASIS_UPPER, BASIS_BASIC]


def test_a_solve_is_an_open_session_run_once():
    """`solve` is `open(...).run(...)`: the same answer either way."""
    backend = BACKENDS["highspy"]
    once = backend.solve(two_by_two())
    held = backend.open(two_by_two()).run()
    assert once.status is held.status is Status.OPTIMAL
    assert once.x == pytest.approx(held.x) and once.row_dual == pytest.approx(held.row_dual)


def test_refused_columns_are_an_error_not_a_silent_skip():
    """A column naming row 0 twice is refused by HiGHS: the session says so (the decomposition then
    falls back to the full LP) instead of leaving the LP a column short of what the caller counts."""
    session = BACKENDS["highspy"].open(two_by_two(), presolve=False)
    session.run()
    with pytest.raises(RuntimeError, match="refused 1 added columns"):
        session.add_columns(
            np.array([-3.0]), np.array([np.inf]), np.array([0, 2]), np.array([0, 0]), np.array([1.0, 1.0])
        )
    assert session.run().x == pytest.approx([1.6, 1.2])
