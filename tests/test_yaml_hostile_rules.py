"""The YAML rules of router_opt/io/yaml_io.py, tested on the parser itself (the hostile corpus,
tests/data/hostile/yaml, runs the same shapes through the console script)."""

from __future__ import annotations

import time

import pytest

from router_opt.errors import InputError
from router_opt.io.loaders import load_catalog, load_policy
from router_opt.io.yaml_io import MAX_EXPANDED_BYTES, MAX_EXPANDED_NODES, parse_yaml, yaml_locator


def write(tmp_path, text: str, name: str = "f.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def refused(path) -> str:
    with pytest.raises(InputError) as caught:
        parse_yaml(path)
    return str(caught.value)


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("!!binary aGk=", "!!binary"),
        ("!!set {a: null}", "!!set"),
        ("!!omap [a: 1]", "!!omap"),
        ("!!timestamp 2025-01-01", "!!timestamp"),
        ("!!str plain", "!!str"),
        ("!!python/object/apply:os.system [ls]", "!!python/object/apply:os.system"),
        ("!foo 1", "!foo"),
        ("! 1", "!"),
    ],
)
def test_every_explicit_tag_is_refused_where_it_is_written(tmp_path, value, tag):
    message = refused(write(tmp_path, f"a: 1\nb: {value}\n"))
    assert f"f.yaml:2:4: YAML tag {tag} is not accepted" in message


def test_alias_limit_counts_bytes_not_only_values(tmp_path):
    """600 aliases of a 64 KiB string are 601 values but 37 MiB of text: refused at the alias that
    crosses MAX_EXPANDED_BYTES, quickly."""
    count = MAX_EXPANDED_BYTES // 65536 + 100
    assert count < MAX_EXPANDED_NODES
    text = f'a: [&s "{"x" * 65536}", ' + ", ".join(["*s"] * count) + "]\n"
    start = time.perf_counter()
    message = refused(write(tmp_path, text))
    assert time.perf_counter() - start < 5
    assert "through YAML aliases" in message and "16 MiB of text" in message
    column = int(message.split("f.yaml:1:")[1].split(":")[0])
    # The alias that crosses the limit: the anchor's text, the key `a` and 255 aliases are 16 MiB + 1.
    first_alias = len('a: [&s "') + 65536 + len('", ') + 1
    assert column == first_alias + (MAX_EXPANDED_BYTES // 65536 - 2) * len("*s, ")


def test_aliases_within_the_limits_load_as_shared_values(tmp_path):
    data = parse_yaml(write(tmp_path, "a: &x {k: [1, 2]}\nb: *x\nc: [*x, *x]\n"))
    assert data["b"] == data["c"][0] == {"k": [1, 2]}


def test_merge_keys_fill_only_missing_keys_and_a_duplicate_is_an_error(tmp_path):
    data = parse_yaml(write(tmp_path, "base: &b {x: 1, y: 2}\nm:\n  y: 3\n  <<: *b\n  z: 4\n"))
    assert dict(data["m"]) == {"y": 3, "x": 1, "z": 4}
    # An explicit key after the merge overrides it (YAML's merge), a second explicit key is an error.
    assert parse_yaml(write(tmp_path, "b: &b {x: 1}\nm: {<<: *b, x: 2}\n"))["m"]["x"] == 2
    assert "f.yaml:2:19: key 'x' is given twice" in refused(write(tmp_path, "b: &b {x: 1}\nm: {x: 2, <<: *b, x: 3}\n"))


def test_a_value_reached_through_an_alias_is_located_at_the_alias(tmp_path):
    data = parse_yaml(write(tmp_path, "models:\n  - &m\n    id: a\n    q: {f: 1}\n  - *m\n  - <<: *m\n    id: b\n"))
    locate = yaml_locator(data)
    assert locate(("models", 0, "id")) == (3, 9)
    assert locate(("models", 1, "id")) == (5, 5)  # the alias, not line 3 of the anchor
    assert locate(("models", 2, "q", "f")) == (6, 9)  # merged: the merge's value
    assert locate(("models", 2, "id")) == (7, 9)  # its own key


def test_dates_are_text_and_an_impossible_date_is_a_field_error(tmp_path):
    assert parse_yaml(write(tmp_path, "d: 2026-02-30\n"))["d"] == "2026-02-30"
    catalog = (
        "name: c\nprices_as_of: 2026-02-30\nbaseline: m\n"
        "models: [{id: m, tier: Instruct, provider: p, usd_per_mtok: 1, quality: {faq: 1}}]\n"
    )
    with pytest.raises(InputError, match=r"c.yaml:2:15: prices_as_of: must be a date YYYY-MM-DD, got '2026-02-30'"):
        load_catalog(write(tmp_path, catalog, "c.yaml"))


def test_true_is_not_a_number(tmp_path):
    with pytest.raises(InputError, match=r"p.yaml:1:22: default_min_quality: must be a number, got true"):
        load_policy(write(tmp_path, "default_min_quality: true\n", "p.yaml"))
    assert load_policy(write(tmp_path, "default_min_quality: 1\n", "p.yaml")).default_min_quality == 1.0


@pytest.mark.parametrize(
    ("char", "name"), [("\ufeff", "ZERO WIDTH NO-BREAK SPACE"), ("\\0", "NULL"), ("\u200b", "ZERO WIDTH SPACE")]
)
def test_a_name_holding_an_invisible_character_is_refused(tmp_path, char, name):
    path = write(tmp_path, f'budgets_usd_per_day:\n  "Fin{char}ance": 1\n', "p.yaml")
    with pytest.raises(InputError, match=rf"p.yaml:2:3: budgets_usd_per_day.*{name}\) at character 4"):
        load_policy(path)


def test_structure_limits(tmp_path):
    assert "f.yaml:2:1: holds more than one YAML document" in refused(write(tmp_path, "a: 1\n---\nb: 2\n"))
    assert "a mapping key must be plain text" in refused(write(tmp_path, "? [a]\n: 1\n"))
    assert "alias *n names no anchor" in refused(write(tmp_path, "a: *n\n"))
    assert "inside its own anchor" in refused(write(tmp_path, "a: &r [*r]\n"))
    assert "more than 50 levels deep" in refused(write(tmp_path, "a: " + "[" * 51 + "]" * 51 + "\n"))
    parse_yaml(write(tmp_path, "a: " + "[" * 49 + "]" * 49 + "\n"))
