"""YAML reading that keeps line numbers, and refuses what router-opt's files never need.

The document is built here from the parser's events (libyaml's C parser through ruamel.yaml.clib
where installed, else ruamel's own), not by a YAML constructor, so the rules are one place:

- Values are YAML 1.2 core-schema scalars (text, numbers, true/false, null), mappings and lists.
  A date like `2025-12-31` is read as text; the field that wants a date checks it.
- Any explicit tag (`!!binary`, `!!set`, `!!omap`, `!!timestamp`, `!!str`, `!!python/...`, `!foo`,
  a bare `!`) is refused with its line and column: nothing is built from a tag.
- Anchors, aliases and merge keys (`<<: *defaults`) work, within limits counted on the document as
  if every alias were written out: MAX_EXPANDED_NODES values and MAX_EXPANDED_BYTES of text. The
  count is kept while reading, so an alias bomb stops at the alias that crosses the limit.
- Mappings nest at most MAX_DEPTH levels; a file is at most MAX_YAML_BYTES; one document per file.
- A key given twice is an error at its second use (explicit keys may override merged ones, as
  YAML's merge key means); keys are scalars, not lists or mappings.

Mappings and lists are dicts and lists (YamlMap, YamlSeq) with `.lc` positions (0-based, as ruamel's
`LineCol`) for the locator below; a value that came from an alias is placed where the alias is used.
"""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from router_opt.errors import InputError
from router_opt.io.errors import Loc
from router_opt.io.text import check_readable, read_text

# Catalogs and policies are kilobytes; a YAML workload of 50,000 tasks is about 8 MiB (larger ones
# belong in CSV, which is read far faster).
MAX_YAML_BYTES = 8 * 2**20
# Counted as if every alias were written out ("billion laughs": a small file describing a huge
# document). Bytes matter as much as values: 300,000 aliases of one 64 KiB string are few values.
MAX_EXPANDED_NODES = 1_000_000
MAX_EXPANDED_BYTES = 16 * 2**20
# Catalogs, workloads and policies nest a few levels (models -> model -> quality -> score).
MAX_DEPTH = 50
_TOO_DEEP = f"nests lists/mappings more than {MAX_DEPTH} levels deep; router-opt files nest a few levels"
_MERGE = "<<"


def _size(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB" if n >= 2**20 else f"{n:,} bytes"


class _Refused(Exception):
    def __init__(self, message: str, mark=None):
        super().__init__(message)
        self.message, self.mark = message, mark


def parse_yaml(path: Path) -> object:
    """The document in `path`: YamlMap / YamlSeq (which remember positions) and plain
    scalars. Raises InputError naming file, line and column for anything the rules above refuse."""
    path = Path(path)
    check_readable(path)
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise InputError.single(
            str(path),
            f"file is {_size(size)}; router-opt reads YAML files up to {_size(MAX_YAML_BYTES)} "
            "(a workload that large belongs in a CSV file)",
        )
    text = read_text(path)
    try:
        data = _Builder(text).build()
    except _Refused as exc:
        line, column = _position(exc.mark)
        raise InputError.single(str(path), exc.message, line=line, column=column) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        line, column = _position(mark)
        if "'\\t'" in problem or _char_at(text, mark) == "\t":
            problem += " (YAML indents with spaces, not tabs)"
        raise InputError.single(str(path), f"not valid YAML: {problem}", line=line, column=column) from None
    except YAMLError as exc:
        raise InputError.single(str(path), f"not valid YAML: {exc}") from None
    if data is None:
        raise InputError.single(str(path), "file is empty")
    return data


def _position(mark) -> tuple[int | None, int | None]:
    if mark is None:
        return None, None
    return mark.line + 1, mark.column + 1


def _char_at(text: str, mark) -> str:
    if mark is None:
        return ""
    index = getattr(mark, "index", None)
    if isinstance(index, int) and 0 <= index < len(text):
        return text[index]
    return ""


def _tag_name(tag: str) -> str:
    tag = str(tag)
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


def _refuse_tag(tag, mark) -> None:
    raise _Refused(
        f"YAML tag {_tag_name(tag)} is not accepted: router-opt reads plain values (text, numbers, "
        "true/false, null), mappings and lists; remove the tag",
        mark,
    )


class _Scalars:
    """Plain scalars as YAML 1.2's core schema reads them (ruamel's 1.2 patterns and constructors),
    with dates left as text. Cached by text: files repeat the same few values."""

    def __init__(self):
        from ruamel.yaml.resolver import implicit_resolvers

        # ruamel's YAML 1.2 patterns by the first character they can start with ('' matches the
        # empty scalar), in its order.
        patterns: dict[str, list] = {}
        for versions, tag, pattern, first in implicit_resolvers:
            if (1, 2) in versions:
                for char in first:
                    patterns.setdefault(char, []).append((tag, pattern))
        self._patterns = {char: tuple(found) for char, found in patterns.items()}
        self._constructor = YAML(typ="safe", pure=True).constructor  # its int and float readers
        self._cache: dict[str, object] = {}

    def plain(self, text: str) -> object:
        try:
            return self._cache[text]
        except KeyError:
            pass
        kind = "str"
        for tag, pattern in self._patterns.get(text[:1], ()):
            if pattern.match(text):
                kind = str(tag).removeprefix("tag:yaml.org,2002:")
                break
        if kind == "null":
            value = None
        elif kind == "bool":
            value = text.lower() == "true"
        elif kind in ("int", "float"):
            from ruamel.yaml.nodes import ScalarNode

            node = ScalarNode(f"tag:yaml.org,2002:{kind}", text)
            construct = (
                self._constructor.construct_yaml_int if kind == "int" else self._constructor.construct_yaml_float
            )
            try:
                value = construct(node)
            except ValueError:
                value = text
        else:  # str, timestamp (a date is checked by the field that wants one), anything else
            value = text
        if len(self._cache) < 100_000:
            self._cache[text] = value
        return value


class Positions:
    """Where a mapping or list and each of its entries are (0-based), as ruamel's `LineCol`:
    `line`, `col`; `key(k)` and `value(k)` of a mapping's entry, `item(i)` of a list's."""

    __slots__ = ("col", "data", "line")

    def __init__(self, line: int, col: int):
        self.line, self.col, self.data = line, col, {}

    def key(self, k) -> tuple[int, int]:
        entry = self.data[k]
        return entry[0], entry[1]

    def value(self, k) -> tuple[int, int]:
        entry = self.data[k]
        return entry[2], entry[3]

    def item(self, i: int) -> tuple[int, int]:
        entry = self.data[i]
        return entry[0], entry[1]


class YamlMap(dict):
    """A mapping read from a file, with its positions in `.lc`."""

    __slots__ = ("lc",)


class YamlSeq(list):
    """A list read from a file, with its positions in `.lc`."""

    __slots__ = ("lc",)


class _Frame:
    __slots__ = ("anchor", "bytes_at_start", "is_map", "key", "merged", "nodes_at_start", "obj", "positions", "start")

    def __init__(self, obj, start, anchor, nodes, bytes_):
        self.obj, self.start, self.anchor = obj, start, anchor
        self.positions = obj.lc.data
        self.is_map = type(obj) is YamlMap
        self.nodes_at_start, self.bytes_at_start = nodes, bytes_
        self.key = None  # a mapping's key awaiting its value: (key, mark, is_merge)
        self.merged: set | None = None  # keys a merge put there, which an explicit key may override


class _Builder:
    def __init__(self, text: str):
        self.text = text
        self.nodes = 0  # values so far, aliases expanded
        self.bytes = 0  # scalar text so far, aliases expanded
        self.expanded = False  # did an alias add anything
        self.anchors: dict[str, tuple[object, int, int]] = {}  # name -> (value, nodes, bytes)
        self.open_anchors: set[str] = set()
        self.stack: list[_Frame] = []
        self.root = None
        self.documents = 0
        self.scalars = _Scalars()

    def _events(self):
        try:
            return YAML(typ="safe").parse(self.text)  # libyaml's C parser where installed
        except Exception:  # noqa: BLE001 - no C extension: ruamel's parser emits the same events
            return YAML(typ="safe", pure=True).parse(self.text)

    def build(self) -> object:
        plain = self.scalars.plain
        add = self._add
        for event in self._events():
            kind = type(event)
            if kind is ScalarEvent:
                mark = event.start_mark
                if event.tag is not None:
                    _refuse_tag(event.tag, mark)
                text = event.value
                is_plain = not event.style and event.implicit[0]
                value = plain(text) if is_plain else text
                self.nodes += 1
                self.bytes += len(text)
                if self.bytes > MAX_EXPANDED_BYTES or self.nodes > MAX_EXPANDED_NODES:
                    self._over(mark)
                if event.anchor:
                    self.anchors[event.anchor] = (value, 1, len(text))
                add(value, mark, True, is_plain and text == _MERGE)
            elif kind is AliasEvent:
                self._alias(event.anchor, event.start_mark)
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                mark = event.start_mark
                if event.tag is not None:
                    _refuse_tag(event.tag, mark)
                if self.stack and self.stack[-1].is_map and self.stack[-1].key is None:
                    raise _Refused("a mapping key must be plain text, not a list or mapping", mark)
                if len(self.stack) >= MAX_DEPTH:
                    raise _Refused(_TOO_DEEP, mark)
                obj = YamlMap() if kind is MappingStartEvent else YamlSeq()
                obj.lc = Positions(mark.line, mark.column)
                self.nodes += 1
                if self.nodes > MAX_EXPANDED_NODES:
                    self._over(mark)
                if event.anchor:
                    self.open_anchors.add(event.anchor)
                self.stack.append(_Frame(obj, mark, event.anchor, self.nodes - 1, self.bytes))
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                frame = self.stack.pop()
                if frame.anchor:
                    self.open_anchors.discard(frame.anchor)
                    size = (self.nodes - frame.nodes_at_start, self.bytes - frame.bytes_at_start)
                    self.anchors[frame.anchor] = (frame.obj, *size)
                add(frame.obj, frame.start)
            elif kind is DocumentStartEvent:
                mark = event.start_mark
                self.documents += 1
                if self.documents > 1:
                    raise _Refused("holds more than one YAML document (`---`); put everything in one", mark)
                version = getattr(event, "version", None)
                if version and tuple(version) != (1, 2):
                    raise _Refused(
                        f"declares YAML {'.'.join(map(str, version))}; router-opt reads YAML 1.2 "
                        "(remove the %YAML line)",
                        mark,
                    )
        return self.root

    def _over(self, mark) -> None:
        """Past MAX_EXPANDED_NODES or MAX_EXPANDED_BYTES: refused where the count crossed it."""
        what = (
            f"more than {MAX_EXPANDED_NODES:,} values"
            if self.nodes > MAX_EXPANDED_NODES
            else f"more than {_size(MAX_EXPANDED_BYTES)} of text"
        )
        if self.expanded:
            raise _Refused(
                f"expands to {what} through YAML aliases (&anchor/*alias), counting each alias as "
                "its anchor's whole value; this alias crosses the limit: write the values out or "
                "use fewer aliases",
                mark,
            )
        raise _Refused(f"holds {what}; router-opt files are far smaller", mark)

    def _alias(self, name: str, mark) -> None:
        if name in self.open_anchors:
            raise _Refused(f"alias *{name} is inside its own anchor &{name} (a value cannot contain itself)", mark)
        if name not in self.anchors:
            raise _Refused(f"alias *{name} names no anchor (&{name}) above it", mark)
        value, nodes, bytes_ = self.anchors[name]
        self.expanded = True
        self.nodes += nodes
        self.bytes += bytes_
        if self.bytes > MAX_EXPANDED_BYTES or self.nodes > MAX_EXPANDED_NODES:
            self._over(mark)
        self._add(value, mark, not isinstance(value, (YamlMap, YamlSeq)))

    def _add(self, value, mark, is_scalar: bool = False, is_merge_key: bool = False) -> None:
        stack = self.stack
        if not stack:
            self.root = value
            return
        frame = stack[-1]
        obj = frame.obj
        if not frame.is_map:
            frame.positions[len(obj)] = (mark.line, mark.column)
            obj.append(value)
            return
        if frame.key is None:  # this value is a key
            if not is_scalar:
                raise _Refused("a mapping key must be plain text, not a list or mapping", mark)
            frame.key = (value, mark, is_merge_key)
            return
        key, key_mark, is_merge = frame.key
        frame.key = None
        if is_merge:
            self._merge(frame, value, mark)
            return
        if key in obj:
            if frame.merged is None or key not in frame.merged:
                first = frame.positions[key]
                raise _Refused(f"key {key!r} is given twice in this mapping (first at line {first[0] + 1})", key_mark)
            frame.merged.discard(key)
        obj[key] = value
        frame.positions[key] = (key_mark.line, key_mark.column, mark.line, mark.column)

    def _merge(self, frame: _Frame, value, mark) -> None:
        """`<<: *defaults` (or a list of them): keys not already given, placed at the merge."""
        sources = value if isinstance(value, YamlSeq) else [value]
        if not all(isinstance(s, YamlMap) for s in sources):
            raise _Refused("`<<` (a merge key) takes a mapping, or a list of mappings, to copy keys from", mark)
        obj = frame.obj
        if frame.merged is None:
            frame.merged = set()
        for source in sources:
            for key, item in source.items():
                if key not in obj:
                    obj[key] = item
                    frame.positions[key] = (mark.line, mark.column, mark.line, mark.column)
                    frame.merged.add(key)


def yaml_locator(root: object):
    """A `Locator` for a parsed document: the deepest position along `loc` that the file knows. A
    value reached through an alias (or a merge) is placed where the alias is used, not at its anchor."""

    def locate(loc: Loc) -> tuple[int | None, int | None]:
        node, position = root, (None, None)
        for depth, key in enumerate(loc):
            last = depth == len(loc) - 1
            data = getattr(getattr(node, "lc", None), "data", None) or {}
            if isinstance(node, YamlMap) and key in node and key in data:
                entry = data[key]
                line, col = (entry[2], entry[3]) if last or len(entry) < 4 else (entry[0], entry[1])
                if line is None:
                    line, col = entry[0], entry[1]
                position = (line + 1, col + 1)
                value_at = (entry[2], entry[3]) if len(entry) >= 4 else None
                node = node[key]
            elif isinstance(node, YamlSeq) and isinstance(key, int) and 0 <= key < len(node) and key in data:
                line, col = data[key][0], data[key][1]
                position = (line + 1, col + 1)
                value_at = (line, col)
                node = node[key]
            else:
                if depth == 0 and isinstance(node, (YamlMap, YamlSeq)):
                    position = (node.lc.line + 1, node.lc.col + 1)
                break
            own = (node.lc.line, node.lc.col) if isinstance(node, (YamlMap, YamlSeq)) else None
            if own is not None and value_at is not None and own != value_at:
                # Reached through an alias: the anchor's lines are shared by every use; stop here.
                position = (value_at[0] + 1, value_at[1] + 1)
                break
        return position

    return locate


def sequence_lines(seq: object) -> tuple[int, ...] | None:
    """1-based line of each item of a YAML sequence."""
    if not isinstance(seq, YamlSeq):
        return None
    return tuple(seq.lc.item(i)[0] + 1 for i in range(len(seq)))
