"""The domain: catalogs of models, workloads of tasks, and the routing policy.

Every model is frozen and forbids unknown keys, so a typo in a hand-written file is an error, not a
silently ignored setting. Cross-field checks raise `ValueError("<path>: <message>")`; the loaders read
the leading path to point at the right line of the file.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import core_schema


class Tier(StrEnum):
    """The seven model categories of the seed report (003, 'The 7 Model Categories')."""

    REASONING = "Reasoning"
    COMMERCIAL_LARGE = "Commercial Large"
    COMMERCIAL_SMALL = "Commercial Small"
    OPEN_SOURCE = "Open-Source"
    FINE_TUNED = "Fine-Tuned"
    INSTRUCT = "Instruct"
    SPECIALIST = "Specialist"


def _not_bool(value):
    """true/false is not a number (pydantic would read it as 1 or 0: `default_min_quality: true`
    would be a bar of 1.0)."""
    if isinstance(value, bool):
        raise ValueError(  # noqa: TRY004 - pydantic reports ValueError, not TypeError, as a validation error
            f"must be a number, got {str(value).lower()} (true/false is not a number)"
        )
    return value


_CONTROL_NAMES = {"\0": "NULL", "\t": "TAB", "\n": "LINE FEED, a line break", "\r": "CARRIAGE RETURN, a line break"}


def visible(text: str) -> str:
    """A name may not hold a character that shows as nothing (controls such as NUL or a line break,
    U+FEFF, zero-width and direction marks, a no-break space): it would be a different name from the
    one a reader sees."""
    if text.isprintable():
        return text
    at, char = next((i, c) for i, c in enumerate(text) if not c.isprintable())
    import unicodedata

    name = _CONTROL_NAMES.get(char) or unicodedata.name(char, "a control character")
    raise ValueError(
        f"{text[:40]!r}{'...' if len(text) > 40 else ''} holds U+{ord(char):04X} ({name}) at character {at + 1}, "
        "which shows as nothing (or as a plain space) but makes a different name; delete it"
    )


Complexity = Literal["simple", "medium", "hard", "frontier"]
Number = BeforeValidator(_not_bool)
Finite = Annotated[float, Field(allow_inf_nan=False), Number]
NonNegativeFinite = Annotated[float, Field(ge=0, allow_inf_nan=False), Number]
Identifier = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(visible)]
# The largest figures a file may give: far past any real catalog or policy, and small enough that
# sums and products over a workload stay finite (1e308 budgets overflowed the solver).
MAX_USD_PER_MTOK = 1e6
MAX_USD = 1e12
MAX_MTOK_PER_DAY = 1e12
MAX_MS = 1e9
MAX_CONTEXT_TOKENS = 10**9
MAX_SCALE = 1e6
Price = Annotated[NonNegativeFinite, Field(le=MAX_USD_PER_MTOK)]
Usd = Annotated[NonNegativeFinite, Field(le=MAX_USD)]
Milliseconds = Annotated[NonNegativeFinite, Field(le=MAX_MS)]


class _Frozen(BaseModel):
    # The attribute docstrings below document the fields for readers of the code; pydantic's
    # use_attribute_docstrings (which re-reads and tokenises this module's source for every class)
    # would turn them into schema descriptions nothing reads, at about 0.1 s of every command's start.
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def rows_from_columns(cls: type[BaseModel], columns: dict[str, list]) -> tuple:
    """Instances of `cls` from equal-length columns (one list per field, every field given), one per
    row, for values already validated (column by column, or computed from validated inputs).

    This skips pydantic's per-object validation and even `model_construct` (which looks up defaults
    and aliases per object): at 50,000 rows that bookkeeping cost more than the solve. The result is
    the object `model_construct` would build: same `__dict__`, fields set, no extras or private state."""
    names = tuple(cls.model_fields)
    if set(columns) != set(names):
        raise TypeError(f"{cls.__name__}: columns {sorted(set(columns) ^ set(names))} missing or unknown")
    fields_set = set(names)
    setattr_, new = object.__setattr__, object.__new__
    out = []
    append = out.append
    for values in zip(*(columns[name] for name in names), strict=True):
        row = new(cls)
        setattr_(row, "__dict__", dict(zip(names, values)))
        setattr_(row, "__pydantic_fields_set__", fields_set)
        setattr_(row, "__pydantic_extra__", None)
        setattr_(row, "__pydantic_private__", None)
        append(row)
    return tuple(out)


class QualityScale(_Frozen):
    """The scale a catalog's quality scores and every threshold against it are on."""

    min: Annotated[Finite, Field(ge=-MAX_SCALE, le=MAX_SCALE)] = 0.0
    """Lowest possible score."""
    max: Annotated[Finite, Field(ge=-MAX_SCALE, le=MAX_SCALE)] = 100.0
    """Highest possible score."""
    unit: Identifier = "percent"
    """What a score means, e.g. `percent` (accuracy) or `elo` (arena rating)."""

    @model_validator(mode="after")
    def _ordered(self) -> QualityScale:
        if not (math.isfinite(self.min) and math.isfinite(self.max) and self.min < self.max):
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        return self


_UNCERTAINTY_FIELDS = ("quality_interval", "input_usd_per_mtok_range", "output_usd_per_mtok_range")


class ModelSpec(_Frozen):
    """One model (or tier representative) that tasks can be routed to."""

    id: Identifier
    """Unique id within the catalog, used in reports and policies."""
    tier: Tier
    """Which of the seven categories the model belongs to."""
    provider: Identifier
    """Who serves it (vendor, or `Self-hosted`)."""
    input_usd_per_mtok: Price
    """Price of one million input (prompt) tokens, USD."""
    output_usd_per_mtok: Price
    """Price of one million output (completion) tokens, USD."""
    quality: dict[Identifier, Finite]
    """Quality per task type on the catalog's quality scale. A task type that is missing cannot be
    served by this model."""
    context_window: Annotated[int, Field(gt=0, le=MAX_CONTEXT_TOKENS), Number] | None = None
    """Largest prompt the model accepts, tokens."""
    latency_ms: Milliseconds | None = None
    """Typical time to a full answer, milliseconds."""
    regions: tuple[Identifier, ...] | None = None
    """Where the model may be served from (e.g. `eu`, `us`); absent means anywhere."""
    deployment: Literal["api", "self-hosted"] | None = None
    """How the model is reached."""
    capacity_mtok_per_day: Annotated[NonNegativeFinite, Field(le=MAX_MTOK_PER_DAY)] | None = None
    """Most it can process in a day, input plus output, millions of tokens, across all tasks (GPU
    throughput of a self-hosted deployment, or a rate limit); absent means unlimited."""
    fixed_usd_per_month: Usd | None = None
    """Fixed cost of running a self-hosted deployment (GPUs, whether busy or not), USD per month.
    When set, the optimizer decides whether to provision the deployment at all: traffic may go to
    it only if it is provisioned, and then the fixed cost is paid."""
    sources: tuple[str, ...] = ()
    """Where each figure comes from (a seed table, a price page) or that it is an assumption."""
    gateway_model: str | None = None
    """How a gateway names the model for `router-opt export-policy` (LiteLLM's `provider/model`,
    e.g. `openai/gpt-4o`); absent: `<provider>/<id>` in lower case, or `openai/<id>` for a
    self-hosted model (an OpenAI-compatible server such as vLLM)."""
    quality_interval: dict[Identifier, tuple[Finite, Finite]] | None = None
    """Optional uncertainty of `quality`, per task type: `[low, high]`, a 95% interval on the
    catalog's quality scale (an eval's confidence interval, Arena's q025/q975). Read as a normal
    distribution with mean the point `quality` and standard deviation (high - low) / (2 x 1.96),
    clipped to the scale when sampled. `router-opt ranges` samples it; `optimize --confidence`
    plans against its quantile. Every plan without those options uses the point `quality` only."""
    input_usd_per_mtok_range: tuple[Price, Price] | None = None
    """Optional `[low, high]` range of the input price, USD per million tokens, sampled uniformly by
    `router-opt ranges`; the point `input_usd_per_mtok` is what every plan uses."""
    output_usd_per_mtok_range: tuple[Price, Price] | None = None
    """Optional `[low, high]` range of the output price, as `input_usd_per_mtok_range`."""

    @model_serializer(mode="wrap")
    def _without_absent_uncertainty(self, handler):
        # The optional uncertainty fields are left out of a dump when absent, so a catalog without
        # them serialises exactly as before they existed (`catalog show --format json`).
        data = handler(self)
        if isinstance(data, dict):
            for key in _UNCERTAINTY_FIELDS:
                if data.get(key, 0) is None:
                    del data[key]
        return data

    @model_validator(mode="after")
    def _uncertainty_ordered(self) -> ModelSpec:
        problems = []
        for task_type, (low, high) in (self.quality_interval or {}).items():
            if task_type not in self.quality:
                problems.append(f"quality_interval.{task_type}: the model has no quality for '{task_type}'")
            elif low > high:
                problems.append(f"quality_interval.{task_type}: low ({low:g}) is above high ({high:g})")
        for key in ("input_usd_per_mtok_range", "output_usd_per_mtok_range"):
            given = getattr(self, key)
            if given is not None and given[0] > given[1]:
                problems.append(f"{key}: low ({given[0]:g}) is above high ({given[1]:g})")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @model_validator(mode="before")
    @classmethod
    def _one_price_for_both(cls, data):
        """`usd_per_mtok: X` is shorthand for the same input and output price."""
        if isinstance(data, dict) and "usd_per_mtok" in data:
            data = dict(data)
            blended = data.pop("usd_per_mtok")
            for key in ("input_usd_per_mtok", "output_usd_per_mtok"):
                if key in data:
                    raise ValueError(f"{key}: give either usd_per_mtok or input/output prices, not both")
                data[key] = blended
        return data

    @field_validator("quality")
    @classmethod
    def _some_quality(cls, quality: dict[str, float]) -> dict[str, float]:
        if not quality:
            raise ValueError("must rate at least one task type")
        return quality


class Catalog(_Frozen):
    """A priced, quality-rated set of models, with the one the all-large habit sends everything to."""

    name: Identifier
    """Short name shown in reports."""
    currency: Literal["USD"] = "USD"
    """Currency of every price (only USD for now)."""
    prices_as_of: date
    """Date the prices were read; reports show it."""
    baseline: Identifier
    """Id of the model the all-large habit sends every task to."""
    quality_scale: QualityScale = QualityScale()
    """Scale of every quality score and threshold."""
    models: tuple[ModelSpec, ...] = Field(min_length=1)
    """The models tasks can be routed to."""

    @model_validator(mode="after")
    def _consistent(self) -> Catalog:
        problems: list[str] = []
        first_index: dict[str, int] = {}
        for i, model in enumerate(self.models):
            if model.id in first_index:
                problems.append(
                    f"models[{i}].id: duplicate model id '{model.id}' (first used by models[{first_index[model.id]}])"
                )
            first_index.setdefault(model.id, i)
            for task_type, score in model.quality.items():
                if not self.quality_scale.min <= score <= self.quality_scale.max:
                    problems.append(
                        f"models[{i}].quality.{task_type}: {score:g} is outside the catalog's quality scale "
                        f"{self.quality_scale.min:g}..{self.quality_scale.max:g}"
                    )
        if self.baseline not in first_index:
            problems.append(
                f"baseline: '{self.baseline}' is not a model id in this catalog (ids: {', '.join(first_index)})"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def baseline_model(self) -> ModelSpec:
        return next(m for m in self.models if m.id == self.baseline)

    @property
    def task_types(self) -> list[str]:
        """Every task type at least one model rates, in first-seen order."""
        seen: dict[str, None] = {}
        for model in self.models:
            seen.update(dict.fromkeys(model.quality))
        return list(seen)


@functools.lru_cache(maxsize=1024)
def parse_regions(text: str) -> frozenset[str]:
    """A `region` cell (`eu` or `eu|uk`) as a set; cached, as 50,000 rows share a few texts."""
    return frozenset(part.strip() for part in text.split("|") if part.strip())


class TaskDemand(_Frozen):
    """One role's use of one task: how often each worker runs it and how big each call is."""

    department: Identifier
    """Department the role belongs to (rows roll up to it)."""
    role: Identifier
    """Job role within the department."""
    headcount: Annotated[int, Field(ge=1), Number]
    """Workers in the role; a role's $/day covers all of them."""
    task: Identifier
    """Name of the task, unique within the role."""
    task_type: Identifier
    """Which quality column of the catalog applies (e.g. `classification`)."""
    invocations_per_day: NonNegativeFinite
    """Calls per worker per day."""
    input_tokens: Annotated[int, Field(ge=0), Number]
    """Prompt tokens per call."""
    output_tokens: Annotated[int, Field(ge=0), Number]
    """Completion tokens per call."""
    min_quality: Finite | None = None
    """Quality bar for this task; absent means the policy decides."""
    complexity: Complexity | None = None
    """Optional difficulty label; the policy may set a threshold per complexity."""
    region: Annotated[str, AfterValidator(visible)] | None = None
    """Regions this task's data may be processed in, separated by `|` (e.g. `eu` or `eu|uk`);
    only models serving from one of them may take it. Absent: the department's policy, else anywhere."""
    max_latency_ms: Milliseconds | None = None
    """Slowest acceptable answer, milliseconds; models with a larger `latency_ms` are excluded."""

    @property
    def allowed_regions(self) -> frozenset[str] | None:
        return None if self.region is None else parse_regions(self.region)


class TaskRows(Sequence):
    """A workload's tasks: a read-only sequence of TaskDemand, kept as the rows or as the columns
    they were validated in (a spreadsheet loader checks each column in one pydantic call).

    The engine reads columns (`columns()`); rows are made from them only when something iterates
    or indexes the tasks, so a 50,000-row workload solved from a file never builds 50,000 row
    objects. Either form is made from the other once and kept. Compares equal to the same rows as
    any sequence (another TaskRows, a tuple, a list); `+` gives a tuple. Rows made from columns
    count every field as set (`model_fields_set`), where a row validated alone counts only the
    cells it had: the values are the same."""

    __slots__ = ("_columns", "_length", "_rows")
    item_model = TaskDemand

    def __init__(self, rows: Sequence[TaskDemand] = (), columns: dict[str, list] | None = None):
        if columns is not None:
            lengths = {len(v) for v in columns.values()}
            if set(columns) != set(TaskDemand.model_fields) or len(lengths) != 1:
                raise ValueError("columns must give every TaskDemand field, one value per task")
            self._rows, self._columns, self._length = None, columns, lengths.pop()
        else:
            rows = tuple(rows)
            if not all(isinstance(row, TaskDemand) for row in rows):
                raise TypeError("TaskRows holds TaskDemand rows (validate dicts through Workload)")
            self._rows, self._columns, self._length = rows, None, len(rows)

    @classmethod
    def from_columns(cls, columns: dict[str, list]) -> TaskRows:
        """Tasks from already validated columns (each TaskDemand field's values, in task order)."""
        return cls(columns=columns)

    def rows(self) -> tuple[TaskDemand, ...]:
        if self._rows is None:
            self._rows = rows_from_columns(TaskDemand, self._columns)
        return self._rows

    def columns(self) -> dict[str, list]:
        """Every TaskDemand field as a list in task order (None where absent)."""
        if self._columns is None:
            names = tuple(TaskDemand.model_fields)
            gathered = zip(*(tuple(t.__dict__[name] for name in names) for t in self._rows))
            self._columns = dict(zip(names, map(list, gathered))) if self._rows else {name: [] for name in names}
        return self._columns

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):
        return self.rows()[index]

    def __iter__(self) -> Iterator[TaskDemand]:
        return iter(self.rows())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TaskRows):
            return self._length == other._length and self.rows() == other.rows()
        if isinstance(other, (tuple, list)):
            return self.rows() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.rows())

    def __add__(self, other):
        return self.rows() + tuple(other)

    def __radd__(self, other):
        return tuple(other) + self.rows()

    def __repr__(self) -> str:
        return f"TaskRows({self._length} tasks)"

    @classmethod
    def __get_pydantic_core_schema__(cls, source, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        # Validated as a tuple of TaskDemand (same errors and locations as a plain tuple field); an
        # instance passes as it is. Serialised as that tuple.
        rows_schema = handler.generate_schema(Annotated[tuple[TaskDemand, ...], Field(min_length=1)])

        def validate(value, validate_rows):
            return value if isinstance(value, TaskRows) else cls(validate_rows(value))

        return core_schema.no_info_wrap_validator_function(
            validate,
            rows_schema,
            # Through the tuple's own serializer, so include/exclude on tasks work as on a tuple
            # (and a plain tuple left by `model_copy(update=...)` serialises too).
            serialization=core_schema.wrap_serializer_function_ser_schema(
                lambda tasks, serialize: serialize(tuple(tasks)), schema=rows_schema
            ),
        )


class Workload(_Frozen):
    """The tasks of an organisation, one entry per role x task."""

    name: Identifier = "workload"
    """Short name shown in reports."""
    tasks: TaskRows
    """The role x task rows (at least one)."""
    source_path: str | None = None
    """File the workload was read from, for error messages."""
    source_lines: tuple[int, ...] | None = None
    """Line (CSV/YAML) or row (XLSX) of each task in `source_path`, same order as `tasks`."""

    def columns(self) -> dict[str, list]:
        """Every TaskDemand field as a list in task order (None where absent): what the engine
        vectorises, without making row objects of a workload loaded column by column. (A plain
        tuple gets here through `model_copy(update=...)`, which does not validate.)"""
        tasks = self.tasks
        return (tasks if isinstance(tasks, TaskRows) else TaskRows(tasks)).columns()

    @model_validator(mode="after")
    def _consistent(self) -> Workload:
        if not self.tasks:  # TaskRows.from_columns with no rows (a tuple is checked by its schema)
            raise ValueError("tasks: must not be empty")
        columns = self.columns()
        departments, roles = columns["department"], columns["role"]
        role_keys = list(zip(departments, roles))
        lines_ok = self.source_lines is None or len(self.source_lines) == len(self.tasks)
        # Fast check (sets built in C); the loop below only runs to name the rows at fault.
        if (
            lines_ok
            and len(set(zip(departments, roles, columns["task"]))) == len(self.tasks)
            and len(set(zip(role_keys, columns["headcount"]))) == len(set(role_keys))
        ):
            return self
        problems: list[str] = []
        seen: dict[tuple[str, str, str], int] = {}
        headcount: dict[tuple[str, str], tuple[int, int]] = {}
        for i, t in enumerate(self.tasks):
            key = (t.department, t.role, t.task)
            if key in seen:
                problems.append(
                    f"tasks[{i}].task: duplicate task '{t.task}' for {t.department} / {t.role} "
                    f"(first at tasks[{seen[key]}])"
                )
            seen.setdefault(key, i)
            first = headcount.setdefault((t.department, t.role), (t.headcount, i))
            if first[0] != t.headcount:
                problems.append(
                    f"tasks[{i}].headcount: {t.department} / {t.role} has headcount {t.headcount} here "
                    f"but {first[0]} at tasks[{first[1]}]; a role has one headcount"
                )
        if self.source_lines is not None and len(self.source_lines) != len(self.tasks):
            problems.append("source_lines: must have one entry per task")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def where(self, index: int) -> str | None:
        """`path:line` of task `index`, when the workload came from a file."""
        if self.source_path is None:
            return None
        if self.source_lines is None:
            return self.source_path
        return f"{self.source_path}:{self.source_lines[index]}"


class VendorCap(_Frozen):
    """Procurement limits on one provider's part of the plan."""

    max_spend_share: Annotated[float, Field(gt=0, le=1), Number] | None = None
    """Most of the plan's $/day that may go to this provider (0..1]."""
    max_volume_share: Annotated[float, Field(gt=0, le=1), Number] | None = None
    """Most of the plan's invocations that may go to this provider (0..1]."""


class CommittedSpend(_Frozen):
    """A contract with one provider: at least `usd_per_month` of spend, paid whether used or not."""

    usd_per_month: Annotated[Usd, Field(gt=0)]
    """The committed spend per month, USD."""
    discount: Annotated[float, Field(ge=0, lt=1), Number] = 0.0
    """Off the catalog's prices of the provider's models under the contract (0.2 = 20% off)."""


class Policy(_Frozen):
    """The routing rules that are not facts about models or tasks."""

    default_min_quality: Finite = 0.0
    """Quality bar for a task that gets none from its row, its complexity or its task type."""
    min_quality_by_task_type: dict[Identifier, Finite] = {}
    """Quality bar per task type."""
    min_quality_by_complexity: dict[Complexity, Finite] = {}
    """Quality bar per complexity label; wins over the task-type bar for rows that carry a label."""
    budgets_usd_per_day: dict[Identifier, Usd] = {}
    """Most a department may spend per day, USD (all its roles and workers)."""
    total_budget_usd_per_day: Usd | None = None
    """Most the whole plan may spend per day, USD."""
    vendor_caps: dict[Identifier, VendorCap] = {}
    """Limits per provider (as spelled in the catalog); the key `*` applies to every provider."""
    committed_spend: dict[Identifier, CommittedSpend] = {}
    """Provider contracts (provider as spelled in the catalog): committed $/month and discount."""
    allowed_regions_by_department: dict[Identifier, tuple[Identifier, ...]] = {}
    """Regions each department's data may be processed in; a task's own `region` wins."""
    source_path: str | None = None
    """File the policy was read from, for error messages."""

    @classmethod
    def baseline_bars(cls, catalog: Catalog, task_types: Sequence[str]) -> Policy:
        """The bars that keep what the all-large habit delivers: each task type's bar is the catalog's
        baseline model's own quality on it. Task types the baseline does not rate get no bar (nothing
        to keep); used when a catalog of one's own comes without a policy."""
        quality = catalog.baseline_model.quality
        return cls(min_quality_by_task_type={t: quality[t] for t in dict.fromkeys(task_types) if t in quality})

    def threshold_for(self, task: TaskDemand, global_min_quality: float | None = None) -> float:
        """The bar `task` must meet: its own `min_quality`, else `global_min_quality` (the CLI's
        --min-quality), else its complexity's bar, else its task type's, else the default."""
        return self.threshold(task.min_quality, task.complexity, task.task_type, global_min_quality)[0]

    def threshold(
        self, own: float | None, complexity: str | None, task_type: str, global_min_quality: float | None = None
    ) -> tuple[float, bool]:
        """`threshold_for` from a task's three deciding fields, and whether anything set the bar
        (False: the implicit default, 0, which is no bar at all)."""
        by_complexity = complexity is not None and complexity in self.min_quality_by_complexity
        is_set = (
            own is not None
            or global_min_quality is not None
            or "default_min_quality" in self.model_fields_set
            or task_type in self.min_quality_by_task_type
            or by_complexity
        )
        if own is not None:
            return own, is_set
        if global_min_quality is not None:
            return global_min_quality, is_set
        if by_complexity:
            return self.min_quality_by_complexity[complexity], is_set
        return self.min_quality_by_task_type.get(task_type, self.default_min_quality), is_set
