"""The errors router-opt raises on purpose. The CLI turns every `RouterOptError` into a message and
exit code 2; anything else is an internal failure (exit 1)."""

from __future__ import annotations

from dataclasses import dataclass, field


class RouterOptError(Exception):
    """Base class: a problem with the user's input or request, not a bug."""


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


class InputError(RouterOptError):
    """One or more problems in input files, all reported together."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, path: str, message: str, **where) -> InputError:
        return cls([Problem(path=path, message=message, **where)])


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
            or "Lower these thresholds (workload `min_quality`, the policy, or --min-quality) "
            "or add a model that reaches them."
        )
        super().__init__("\n".join(lines))


class SolverError(RouterOptError):
    """The LP solver failed or returned a status router-opt cannot use."""
