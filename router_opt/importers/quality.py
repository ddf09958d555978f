"""Quality files: model -> task type -> score, on a declared scale, written by `router-opt quality import`
from eval results (this module) or Arena ratings (`arena`), and read by `catalog import --quality`.

Eval results: a CSV with a task-type column and one column per model, one row per prompt; a cell is 1/0
(correct or not; also true/false, yes/no) or a score in [0, 1], empty where the model was not run.
Per model and task type: n (non-empty cells), mean, and the Wilson score interval at the chosen
confidence (closed form, z the normal quantile):

    centre ± half = (p + z²/2n ± z·sqrt(p(1−p)/n + z²/4n²)) / (1 + z²/n)

For fractional scores p is the mean score, an approximation (Wilson assumes Bernoulli trials); for
1/0 cells it is exact. `use="lower-bound"` writes 100 × the lower bound, so a threshold of 90 means
"accuracy is at least 90% with 97.5% confidence"; `use="mean"` writes 100 × the mean.
"""

from __future__ import annotations

import io
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from router_opt.errors import InputError, Problem
from router_opt.io.errors import problems_from
from router_opt.io.tables import Record, csv_records, has_invisible, invisible, shown
from router_opt.io.text import read_text
from router_opt.io.yaml_io import parse_yaml, yaml_locator
from router_opt.models import QualityScale, visible

Score = Annotated[float, Field(allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class QualityFile(BaseModel):
    """What `router-opt quality import` writes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    quality_scale: QualityScale = QualityScale()
    """Scale of every score (percent for evals, elo for Arena ratings)."""
    source: str | None = None
    """Where the scores come from."""
    method: str | None = None
    """How they were computed (e.g. `Wilson 95% lower bound`)."""
    models: dict[Name, dict[Name, Score]] = Field(min_length=1)
    """Model name -> task type -> score."""
    evidence: dict[str, dict[str, dict[str, int | float]]] = {}
    """Model -> task type -> figures behind the score (count, mean, interval), for the record."""

    @model_validator(mode="after")
    def _on_scale(self) -> QualityFile:
        problems = []
        for model, scores in self.models.items():
            for task_type, score in scores.items():
                if not self.quality_scale.min <= score <= self.quality_scale.max:
                    problems.append(
                        f"models.{model}.{task_type}: {score:g} is outside the quality scale "
                        f"{self.quality_scale.min:g}..{self.quality_scale.max:g}"
                    )
        if problems:
            raise ValueError("\n".join(problems))
        return self


def load_quality(path: str | Path) -> QualityFile:
    path = Path(path)
    data = parse_yaml(path)
    if not isinstance(data, dict):
        raise InputError.single(str(path), "a quality file must be a YAML mapping with `models:`")
    try:
        quality = QualityFile.model_validate(data)
    except ValidationError as exc:
        raise InputError(problems_from(exc, str(path), yaml_locator(data), model=QualityFile)) from None
    # Names that show as nothing (a NUL, U+FEFF) would match no catalog model or task type, silently.
    locate, problems = yaml_locator(data), []
    for model, scores in quality.models.items():
        for name, loc in [(model, ("models", model))] + [(t, ("models", model, t)) for t in scores]:
            try:
                visible(name)
            except ValueError as exc:
                line, column = locate((*loc, "[key]"))
                problems.append(Problem(str(path), f"name {exc}", line=line, column=column, field="models"))
    if problems:
        raise InputError(problems)
    return quality


def z_for(confidence: float) -> float:
    """Two-sided normal quantile: 1.959964 for 0.95."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (lower, upper) for `successes` out of `n` (no continuity correction)."""
    if n <= 0:
        raise ValueError("n must be positive")
    z = z_for(confidence)
    p = successes / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    denominator = 1 + z2 / n
    return max(0.0, (centre - half) / denominator), min(1.0, (centre + half) / denominator)


@dataclass(frozen=True)
class EvalCell:
    n: int
    total: float
    lower: float
    upper: float

    @property
    def mean(self) -> float:
        return self.total / self.n


_TRUE = {"1", "true", "yes", "y", "correct", "pass"}
_FALSE = {"0", "false", "no", "n", "incorrect", "fail"}
TASK_TYPE_COLUMNS = ("task_type", "task type", "tasktype", "category", "task")


def _cell_value(text: str) -> float | None:
    """A cell as a score in [0, 1]; None if empty; raises ValueError otherwise."""
    t = text.strip().lower()
    if t == "":
        return None
    if t in _TRUE:
        return 1.0
    if t in _FALSE:
        return 0.0
    try:
        value = float(t)
    except ValueError:
        raise ValueError("not a number") from None  # float's own message quotes the whole cell
    if not (math.isfinite(value) and 0 <= value <= 1):
        raise ValueError("outside [0, 1]")
    return value


MAX_EVAL_CELL_CHARS = 2**20
"""An eval cell may hold a long prompt or answer: up to 1 MiB of text (a workload cell: 10,000)."""


def _check_eval_table(where: str, header: list[str], records: list[Record]) -> None:
    """Refuse what would be read wrong: two columns of one name (their scores would be merged), a
    row with more cells than the header, and a quoted cell running over lines into a row of the
    wrong width (an unclosed quote swallowing the lines after it)."""
    problems = []
    counts = Counter(h for h in header if h)
    for name, count in counts.items():
        if count > 1:
            at = ", ".join(str(i + 1) for i, h in enumerate(header) if h == name)
            problems.append(
                Problem(where, f"column '{name}' given {count} times (columns {at}); rename or delete one", line=1)
            )
    width = len(header)
    for record in records[1:]:
        cells = record.cells
        if record.last_line != record.line and len(cells) != width:
            problems.append(
                Problem(
                    where,
                    f"a quoted cell starting on this line runs on to line {record.last_line}, making one row of "
                    f'{len(cells)} cells where the header has {width} (an unclosed or stray " ?)',
                    line=record.line,
                )
            )
        elif len(cells) > width and any(c.strip() for c in cells[width:]):
            problems.append(Problem(where, f"has {len(cells)} cells but the header has {width}", line=record.line))
    if problems:
        raise InputError(problems)


def _swallowing_quote(where: str, header: list[str], rows: list[tuple[int, list[str]]], j: int) -> list[Problem]:
    """A column of scores but for cells holding line breaks: a quote left open swallowed the lines
    after it into one cell (a prompt column's multi-line texts hold other words too)."""
    faults, scores = [], 0
    for line, cells in rows:
        if j >= len(cells):
            continue
        try:
            scores += _cell_value(cells[j]) is not None
        except ValueError:
            if "\n" not in cells[j]:
                return []
            lines = cells[j].count("\n")
            faults.append(
                Problem(
                    where,
                    f"a quoted cell starting on this line runs on for {lines} more line(s) into one cell of a "
                    'column of scores (an unclosed or stray " ?)',
                    line=line,
                    field=header[j],
                )
            )
    return faults if scores else []


def quality_from_evals(
    path: str | Path,
    use: str = "mean",
    confidence: float = 0.95,
    task_type_column: str | None = None,
    models: list[str] | None = None,
) -> tuple[QualityFile, list[str]]:
    """Per model and task type: n, mean and Wilson interval; the score is 100 × mean or lower bound.

    Model columns are `models` if given, else every column whose non-empty cells are all 1/0 (or
    true/false) or numbers in [0, 1]; other columns (prompt ids, texts) are skipped and named in the notes.
    """
    path = Path(path)
    where = str(path)
    if use not in {"mean", "lower-bound"}:
        raise ValueError("use must be 'mean' or 'lower-bound'")
    records = csv_records(path, read_text(path), max_cell_chars=MAX_EVAL_CELL_CHARS)
    if not records:
        raise InputError.single(where, "needs a header and at least one row (one row per prompt)")
    header = [c.strip() for c in records[0].cells]
    rows = [(r.line, r.cells) for r in records[1:]]
    _check_eval_table(where, header, records)
    if header is None or not rows:
        raise InputError.single(where, "needs a header and at least one row (one row per prompt)")
    task_type_column = _task_type_column(where, header, task_type_column)
    tt = header.index(task_type_column)
    columns, notes = _model_columns(where, header, rows, tt, models)
    sums = _score_sums(where, header, rows, tt, columns)
    quality = _quality_file(path, sums, use, confidence)
    notes.insert(
        0,
        f"{len(quality.models)} models x {len({t for _, t in sums})} task types from {len(rows)} prompts; "
        f"score = {quality.method}",
    )
    return quality, notes


def _task_type_column(where: str, header: list[str], given: str | None) -> str:
    """The task-type column: the one given (which must be in the header), else the first of
    TASK_TYPE_COLUMNS present (any case)."""
    if given is not None:
        if given not in header:
            raise InputError.single(where, f"no column '{given}' (columns: {', '.join(header)})", line=1)
        return given
    lowered = {h.lower(): h for h in header}
    found = next((lowered[c] for c in TASK_TYPE_COLUMNS if c in lowered), None)
    if found is None:
        raise InputError.single(
            where,
            f"no task-type column (looked for {', '.join(TASK_TYPE_COLUMNS)}); name it with `task_type_column`",
            option="task_type_column",
            line=1,
        )
    return found


def _model_columns(
    where: str, header: list[str], rows: list[tuple[int, list[str]]], tt: int, models: list[str] | None
) -> tuple[list[int], list[str]]:
    """(positions of the model columns, notes): `models` when given (each must be a column), else
    every column but the task type's whose cells are 1/0 or scores in [0, 1] (the others named)."""
    if models:
        unknown = [m for m in models if m not in header]
        if unknown:
            raise InputError.single(where, f"no column(s) {', '.join(unknown)} (columns: {', '.join(header)})", line=1)
        return [header.index(m) for m in models], []
    columns, skipped = [], []
    for j, name in enumerate(header):
        if j == tt or not name:
            continue
        try:
            values = [_cell_value(cells[j]) for _, cells in rows if j < len(cells)]
        except ValueError:
            swallowed = _swallowing_quote(where, header, rows, j)
            if swallowed:
                raise InputError(swallowed) from None
            skipped.append(name)
            continue
        if any(v is not None for v in values):
            columns.append(j)
        else:
            skipped.append(name)
    notes = [f"columns skipped (not 1/0 or scores in [0, 1]): {', '.join(skipped)}"] if skipped else []
    if not columns:
        raise InputError.single(
            where, "no model columns: no column other than the task type holds 1/0 or scores in [0, 1]", line=1
        )
    return columns, notes


def _score_sums(
    where: str, header: list[str], rows: list[tuple[int, list[str]]], tt: int, columns: list[int]
) -> dict[tuple[str, str], list[float]]:
    """(model, task type) -> [prompts scored, sum of scores]; every bad cell (empty or invisibly marked
    task type, a score that is not 1/0 or in [0, 1]) is reported together."""
    sums: dict[tuple[str, str], list[float]] = {}
    problems: list[Problem] = []
    for line, cells in rows:
        task_type = cells[tt].strip() if tt < len(cells) else ""
        if not task_type:
            problems.append(Problem(where, "task type is empty", line=line, field=header[tt]))
            continue
        if has_invisible(task_type):
            problems.append(
                Problem(
                    where,
                    f"{shown(task_type)} holds {invisible(task_type)}, invisible in a spreadsheet but a different "
                    "task type from the one without it; delete it",
                    line=line,
                    field=header[tt],
                )
            )
            continue
        for j in columns:
            try:
                value = _cell_value(cells[j]) if j < len(cells) else None
            except ValueError as exc:
                problems.append(
                    Problem(
                        where,
                        f"{shown(cells[j].strip())}: must be 1/0 or a score in [0, 1] ({exc})",
                        line=line,
                        field=header[j],
                    )
                )
                continue
            if value is not None:
                acc = sums.setdefault((header[j], task_type), [0, 0.0])
                acc[0] += 1
                acc[1] += value
    if problems:
        raise InputError(problems)
    return sums


def _quality_file(path: Path, sums: dict[tuple[str, str], list[float]], use: str, confidence: float) -> QualityFile:
    """The scores (100 × mean, or × the Wilson lower bound) with their evidence, on 0-100."""
    scores: dict[str, dict[str, float]] = {}
    evidence: dict[str, dict[str, dict[str, int | float]]] = {}
    for (model, task_type), (n, total) in sums.items():
        lower, upper = wilson_interval(total, n, confidence)
        cell = EvalCell(n=n, total=total, lower=lower, upper=upper)
        score = cell.mean if use == "mean" else cell.lower
        scores.setdefault(model, {})[task_type] = round(100 * score, 2)
        evidence.setdefault(model, {})[task_type] = {
            "n": n,
            "mean": round(100 * cell.mean, 4),
            "wilson_lower": round(100 * lower, 4),
            "wilson_upper": round(100 * upper, 4),
        }
    level = f"{confidence * 100:g}%"
    method = f"Wilson {level} lower bound of accuracy x 100" if use == "lower-bound" else "mean accuracy x 100"
    return QualityFile(
        quality_scale=QualityScale(min=0, max=100, unit="percent"),
        source=f"eval results {path.name}",
        method=method,
        models=scores,
        evidence=evidence,
    )


def quality_yaml(quality: QualityFile, header: list[str]) -> str:
    """The quality file as commented YAML (scores in flow style, one model per line)."""
    import re

    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    def key(name: str) -> str:
        """A name as a key: plain where it is a simple word, else double-quoted (ruamel writes a key
        such as ': x' unquoted inside a flow mapping, `{: x: 90}`, which no YAML parser reads back)."""
        return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", name) else DoubleQuotedScalarString(name)

    root = CommentedMap()
    scale = CommentedMap(quality.quality_scale.model_dump())
    scale.fa.set_flow_style()
    root["quality_scale"] = scale
    if quality.source:
        root["source"] = quality.source
    if quality.method:
        root["method"] = quality.method
    models = CommentedMap()
    for name, scores in quality.models.items():
        row = CommentedMap((key(task_type), score) for task_type, score in scores.items())
        row.fa.set_flow_style()
        models[key(name)] = row
    root["models"] = models
    if quality.evidence:
        evidence = CommentedMap()
        for name, per_type in quality.evidence.items():
            inner = CommentedMap()
            for task_type, figures in per_type.items():
                fig = CommentedMap(figures)
                fig.fa.set_flow_style()
                inner[key(task_type)] = fig
            evidence[key(name)] = inner
        root["evidence"] = evidence
        root.yaml_set_comment_before_after_key("evidence", before="\nThe figures behind each score, for the record.")
    root.yaml_set_start_comment("\n".join(header))
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump(root, out)
    return out.getvalue()
