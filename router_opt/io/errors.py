"""Turning pydantic's validation errors into `Problem`s that name file, line and field."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from pydantic import ValidationError

from router_opt.errors import Problem

Loc = tuple[str | int, ...]
# Given a location inside the document, return (line, column), 1-based, or None if unknown.
Locator = Callable[[Loc], tuple[int | None, int | None]]

# A cross-field validator's message starts with the path it is about: "models[3].id: duplicate ...".
_PATH_PREFIX = re.compile(r"^((?:[A-Za-z_][\w-]*|\[\d+\])(?:\[\d+\]|\.[\w-]+)*): (.*)$", re.DOTALL)
_PATH_PART = re.compile(r"\[(\d+)\]|\.?([A-Za-z_][\w-]*)")


def field_name(loc: Sequence[str | int]) -> str:
    """('models', 3, 'quality', 'faq') -> 'models[3].quality.faq'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_path(path: str) -> Loc:
    """'models[3].quality.faq' -> ('models', 3, 'quality', 'faq')."""
    return tuple(int(i) if i else name for i, name in _PATH_PART.findall(path))


def _short(value: object) -> str:
    # (A YAML tag never gets this far: router_opt.io.yaml_io refuses every one where it is written.)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def describe(error: dict) -> str:
    """A message that says what was wrong and what is allowed."""
    kind, ctx, got = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; see README for the allowed fields)"
    if kind == "int_parsing_size":
        return f"is too large for a whole number, got {_short(got)}"
    if kind == "string_too_long":
        length = f"{len(got):,}" if isinstance(got, str) else "more"
        return f"must be at most {ctx.get('max_length', '?')} characters, got {length}"
    if kind in {"float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"}:
        what = "a whole number" if kind.startswith("int") else "a number"
        return f"must be {what}, got {_short(got)}"
    if kind == "finite_number":
        return f"must be a finite number, got {_short(got)}"
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        sign = {"greater_than_equal": "≥", "greater_than": ">", "less_than_equal": "≤", "less_than": "<"}[kind]
        bound = next(iter(ctx.values()))
        if isinstance(bound, float) and abs(bound) >= 1e5:
            bound = f"{bound:g}"  # 1e+12, not 1000000000000.0
        return f"must be a number {sign} {bound}, got {_short(got)}"
    if kind in {"enum", "literal_error"}:
        return f"must be one of {ctx.get('expected', '?')}, got {_short(got)}"
    if kind == "string_type":
        return f"must be text, got {_short(got)}"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return f"must be a mapping (key: value lines), got {_short(got)}"
    if kind in {"tuple_type", "list_type", "set_type"}:
        return f"must be a list (`- item` lines or [a, b]), got {_short(got)}"
    if kind.startswith(("date_", "datetime_")):
        return f"must be a date YYYY-MM-DD, got {_short(got)}"
    if kind in {"string_too_short"}:
        return "must not be empty"
    if kind in {"too_short"}:
        return "must not be empty"
    message = error["msg"].removeprefix("Value error, ")
    if got is not None and kind != "value_error" and not isinstance(got, (dict, list, tuple)):
        message += f", got {_short(got)}"
    return message


# Keys a model accepts that are not its fields (a "before" validator turns them into fields), and
# fields the loaders set, which a file may not.
_ALSO_ACCEPTED = {"ModelSpec": ("usd_per_mtok",)}
# Fields a file may give under another key: a problem with the field is placed at that key's line.
_GIVEN_AS = {"input_usd_per_mtok": "usd_per_mtok", "output_usd_per_mtok": "usd_per_mtok"}
_NOT_FROM_FILES = {"source_path", "source_lines"}


def _model_at(model: type | None, loc: Loc) -> type | None:
    """The pydantic model class that the mapping at `loc` (inside a `model` document) validates as."""
    from pydantic import BaseModel

    def inner(annotation) -> type | None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return annotation
        if isinstance(getattr(annotation, "item_model", None), type):  # a sequence type of models (TaskRows)
            return annotation.item_model
        for arg in getattr(annotation, "__args__", ()) or ():
            found = inner(arg)
            if found is not None:
                return found
        return None

    current = model
    for part in loc:
        if current is None:
            return None
        if isinstance(part, str) and part in current.model_fields:
            current = inner(current.model_fields[part].annotation)
        else:  # an index into a list, or a key of a dict: the element's model is already `current`
            continue
    return current


def _allowed_fields(model: type | None, loc: Loc) -> str:
    cls = _model_at(model, loc)
    if cls is None:
        return ""
    names = [n for n in cls.model_fields if n not in _NOT_FROM_FILES] + list(_ALSO_ACCEPTED.get(cls.__name__, ()))
    return "; allowed here: " + ", ".join(names)


def problems_from(
    error: ValidationError, path: str, locate: Locator, prefix: Loc = (), model: type | None = None
) -> list[Problem]:
    """One `Problem` per pydantic error (and per line of a multi-line cross-field message). With
    `model` (the document's root class), an unknown field's message lists the fields allowed there."""
    problems: list[Problem] = []
    for err in error.errors(include_url=False):
        if err["type"] == "too_short" and isinstance(err.get("input"), (list, tuple)) and err["input"]:
            # pydantic adds "at least 1 item after validation, not 0" when every item failed: the
            # items' own errors say what is wrong, and the list is not empty.
            continue
        loc: Loc = prefix + tuple(err["loc"])
        messages = [describe(err)]
        if err["type"] == "extra_forbidden" and model is not None:
            messages = [
                describe(err).replace("; see README for the allowed fields)", ")") + _allowed_fields(model, loc[:-1])
            ]
        if err["type"] == "value_error":
            messages = describe(err).split("\n")
        for message in messages:
            where = loc
            match = _PATH_PREFIX.match(message)
            if err["type"] == "value_error" and match:
                where = loc + parse_path(match.group(1))
                message = match.group(2)
            line, column = locate(where)
            if where and where[-1] in _GIVEN_AS and (line, column) == locate(where[:-1]):
                line, column = locate(where[:-1] + (_GIVEN_AS[where[-1]],))
            if where and where[-1] == "[key]":  # a mapping key is wrong, not its value
                where, message = where[:-1], f"key {message}"
            problems.append(
                Problem(path=path, message=message, line=line, column=column, field=field_name(where) or None)
            )
    return problems
