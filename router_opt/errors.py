"""The errors router-opt raises on purpose. The CLI turns every `RouterOptError` into a message and
exit code 2; anything else is an internal failure (exit 1)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field


class RouterOptError(Exception):
    """Base class: a problem with the user's input or request, not a bug.

    `option`: the parameter(s) at fault, by their Python names (`min_quality`), when the problem is
    a value the caller passed rather than a file. The message then writes each of them in backticks
    (`` `min_quality` must be a finite number``), and a front end that spells parameters its own way
    shows the message through `spelled` (the CLI: `--min-quality must be a finite number`), so the
    library's messages need not know the command line's flags."""

    options: tuple[str, ...] = ()  # (a subclass that skips this __init__ names none)

    def __init__(self, *args, option: str | tuple[str, ...] | None = None):
        super().__init__(*args)
        self.options = (option,) if isinstance(option, str) else tuple(option or ())

    @property
    def option(self) -> str | None:
        """The parameter at fault (the first named), or None."""
        return self.options[0] if self.options else None

    def spelled(self, text: str, spelling: Callable[[str], str]) -> str:
        """`text` (this error's message, or a rendering of it) with each of its parameters written
        as `spelling(name)` instead of `` `name` ``."""
        for name in self.options:
            text = text.replace(f"`{name}`", spelling(name))
        return text


class InputNote(UserWarning):
    """Something the user should know about how an input was read (which sheet of a workbook, a
    title row skipped), issued with `warnings.warn`; the CLI prints it as `note: ...` on stderr."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one input file, located as precisely as the format allows."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        what = f"{self.field}: " if self.field else ""
        return f"{where}: {what}{self.message}"


# How many problems of one kind (same file, field and message but for the values in it) are shown,
# and how many lines in all: one systematic mistake in a 20,000-row file is one fix, not 20,000 lines.
SHOWN_PER_KIND = 3
SHOWN_AT_MOST = 40
_VALUES = re.compile(r"'[^']*'|\"[^\"]*\"|-?\d[\d,.]*(?:e[+-]?\d+)?")


def _kind(problem: Problem) -> tuple[str, str | None, str]:
    """What makes two problems the same mistake: file, field and the message without its values
    (quoted text and numbers: `got 'ten'` and `got 'eleven'` are one kind)."""
    return problem.path, problem.field, _VALUES.sub("…", problem.message)


def render_problems(problems: list[Problem]) -> list[str]:
    """One line per problem, in order, but at most SHOWN_PER_KIND of each kind and SHOWN_AT_MOST in
    all; then, per kind with problems left out, one line counting them."""
    shown: list[str] = []
    seen: dict[tuple, int] = {}
    left_out: dict[tuple, int] = {}
    for problem in problems:
        kind = _kind(problem)
        seen[kind] = seen.get(kind, 0) + 1
        if seen[kind] <= SHOWN_PER_KIND and len(shown) < SHOWN_AT_MOST:
            shown.append(str(problem))
        else:
            left_out[kind] = left_out.get(kind, 0) + 1
    for (path, name, message), count in left_out.items():
        what = f"{name}: " if name else ""
        shown.append(f"... and {count:,} more like this ({path}: {what}{message})")
    return shown


class InputError(RouterOptError):
    """One or more problems in input files, all reported together (the message shows the first few
    of each kind and counts the rest: `render_problems`)."""

    def __init__(self, problems: list[Problem], option: str | tuple[str, ...] | None = None):
        self.problems = list(problems)
        super().__init__("\n".join(render_problems(self.problems)), option=option)

    @classmethod
    def single(cls, path: str, message: str, option: str | tuple[str, ...] | None = None, **where) -> InputError:
        return cls([Problem(path=path, message=message, **where)], option=option)


@dataclass(frozen=True)
class UnservableTask:
    """A task that no model in the catalog can serve at its quality threshold."""

    department: str
    role: str
    task: str
    task_type: str
    min_quality: float
    best_quality: float | None
    best_model: str | None
    source: str | None = field(default=None)
    note: str | None = field(default=None)

    def __str__(self) -> str:
        offer = (
            f"best on offer {self.best_quality:g} ({self.best_model})"
            if self.best_model is not None
            else (self.note or "no model in the catalog rates this task type")
        )
        where = f"{self.source}: " if self.source else ""
        return (
            f"{where}{self.department} / {self.role} / {self.task} [{self.task_type}]: "
            f"needs quality >= {self.min_quality:g}, {offer}"
        )


class InfeasibleError(RouterOptError):
    """No routing plan satisfies every threshold (and constraint)."""

    def __init__(self, tasks: list[UnservableTask], hint: str | None = None):
        self.tasks = list(tasks)
        lines = [f"{len(self.tasks)} task(s) cannot be served at their quality threshold:"]
        lines += [f"  - {t}" for t in self.tasks]
        lines.append(
            hint
            or "Lower these thresholds (the workload's min_quality column, the policy, or the one bar for "
            "every task, `min_quality`) or add a model that reaches them."
        )
        super().__init__("\n".join(lines), option=None if hint else "min_quality")


class SolverError(RouterOptError):
    """The LP solver failed or returned a status router-opt cannot use."""
