"""YAML reading that keeps line numbers (ruamel.yaml, YAML 1.2, round-trip loader: it builds only
plain maps, lists and scalars, never arbitrary Python objects)."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from router_opt.errors import InputError
from router_opt.io.errors import Loc
from router_opt.io.text import read_text

# Measured: 20,000 levels of flow nesting load fine through libyaml, 100,000 crash it.
MAX_FAST_BRACKETS = 10_000


def parse_yaml_fast(path: Path) -> object | None:
    """The document in `path` as plain dicts and lists, through ruamel's safe loader (libyaml's C
    parser when ruamel.yaml.clib is installed: about 4x faster than the round-trip parser on a
    100-model catalog), or None when that parse fails: then `parse_yaml` reads it again and reports
    the problem with its position. Positions are not kept; a caller that must place a validation
    error re-parses with `parse_yaml`."""
    text = read_text(path)
    # libyaml builds nested collections by C recursion that ignores Python's recursion limit: flow
    # nesting of about 100,000 levels overflows the C stack (a crash, not an exception). Flow depth
    # is at most the number of '[' and '{'; above a bound far past any real file, leave the document
    # to the round-trip parser, which refuses it with a message. (Block nesting that deep needs
    # indentation far beyond MAX_INPUT_BYTES.)
    if text.count("[") + text.count("{") > MAX_FAST_BRACKETS:
        return None
    try:
        data = YAML(typ="safe").load(text)
    except Exception:  # noqa: BLE001 - any failure: the round-trip parse says what and where
        return None
    if data is None:
        return None
    _check_expanded_size(data, path)
    return data


def parse_yaml(path: Path) -> object:
    """The document in `path`, as ruamel's commented maps and sequences (which remember positions)."""
    text = read_text(path)
    yaml = YAML(typ="rt", pure=True)
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        if "'\\t'" in problem:
            problem += " (YAML indents with spaces, not tabs)"
        raise InputError.single(
            str(path),
            f"not valid YAML: {problem}",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except YAMLError as exc:
        raise InputError.single(str(path), f"not valid YAML: {exc}") from None
    except RecursionError:  # ruamel composes nested collections recursively
        raise InputError.single(str(path), _TOO_DEEP) from None
    if data is None:
        raise InputError.single(str(path), "file is empty")
    _check_expanded_size(data, path)
    return data


# A YAML alias is a reference, so a small file can describe a huge document ("billion laughs"):
# validating it would visit every expanded node. Real catalogs and workloads are far below this.
MAX_EXPANDED_NODES = 2_000_000
# Catalogs, workloads and policies nest a few levels (models -> model -> quality -> score); a deeply
# nested document is a mistake or an attack, and would exhaust Python's recursion limit downstream.
MAX_DEPTH = 50
_TOO_DEEP = f"nests lists/mappings more than {MAX_DEPTH} levels deep; router-opt files nest a few levels"


def _check_expanded_size(data: object, path: Path) -> None:
    """Refuse documents whose aliases expand past MAX_EXPANDED_NODES; stops counting at the limit."""
    count = 0
    stack = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise InputError.single(str(path), _TOO_DEEP)
        if count > MAX_EXPANDED_NODES:
            raise InputError.single(
                str(path),
                f"expands to more than {MAX_EXPANDED_NODES:,} values through YAML aliases (&anchor/*alias); "
                "write the values out or remove the aliases",
            )
        if isinstance(node, dict):
            stack.extend((value, depth + 1) for value in node.values())
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)


def yaml_locator(root: object):
    """A `Locator` for a parsed document: the deepest position along `loc` that the file knows."""

    def locate(loc: Loc) -> tuple[int | None, int | None]:
        node, position = root, (None, None)
        for depth, key in enumerate(loc):
            last = depth == len(loc) - 1
            if isinstance(node, CommentedMap) and key in node:
                line, col = node.lc.value(key) if last else node.lc.key(key)
                if line is None:
                    line, col = node.lc.key(key)
                position = (line + 1, col + 1)
                node = node[key]
            elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
                line, col = node.lc.item(key)
                position = (line + 1, col + 1)
                node = node[key]
            else:
                if depth == 0 and isinstance(node, (CommentedMap, CommentedSeq)):
                    position = (node.lc.line + 1, node.lc.col + 1)
                break
        return position

    return locate


def sequence_lines(seq: object) -> tuple[int, ...] | None:
    """1-based line of each item of a YAML sequence."""
    if not isinstance(seq, CommentedSeq):
        return None
    return tuple(seq.lc.item(i)[0] + 1 for i in range(len(seq)))
