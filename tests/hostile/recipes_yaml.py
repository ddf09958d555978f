"""Recipes and checks for the YAML cases (tests/data/hostile/yaml): catalogs, policies, workloads
written as YAML, and quality files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.hostile.runner import ROOT

BUNDLED_CATALOG = ROOT / "catalogs" / "seven-tiers-2025.yaml"
BUNDLED_POLICY = ROOT / "policies" / "default.yaml"
BUNDLED_WORKLOAD = ROOT / "workloads" / "enterprise-14-roles.csv"


def _replaced(text: str, replace) -> str:
    """`replace`: one [old, new] pair or a list of them; each old text must occur."""
    if not replace:
        return text
    pairs = [replace] if isinstance(replace[0], str) else replace
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def base_catalog_with(path: Path, replace=None, append: str = "") -> None:
    """The bundled catalog, with texts replaced (each must occur) and text appended."""
    path.write_text(_replaced(BUNDLED_CATALOG.read_text(), replace) + append)


def base_policy_with(path: Path, replace=None, append: str = "") -> None:
    """The bundled policy, with texts replaced and text appended."""
    path.write_text(_replaced(BUNDLED_POLICY.read_text(), replace) + append)


def text_file(path: Path, text: str, encoding: str = "utf-8", newline: str = "\n") -> None:
    """A small file written from the case itself (`\\n` become `newline`)."""
    path.write_bytes(text.replace("\n", newline).encode(encoding))


def _workload_rows() -> list[dict]:
    with BUNDLED_WORKLOAD.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _task_line(row: dict) -> str:
    fields = {k: v for k, v in row.items() if v not in ("", None)}
    return "  - {" + ", ".join(f"{k}: {json.dumps(v) if k in _TEXT else v}" for k, v in fields.items()) + "}\n"


_TEXT = ("department", "role", "task", "task_type", "complexity", "region")


def workload_yaml(path: Path, replace=None, rows: int | None = None, append: str = "") -> None:
    """The bundled workload (CSV) written as a YAML workload, one flow mapping per task, with texts
    replaced (each must occur) and text appended."""
    tasks = _workload_rows()[:rows]
    text = "name: enterprise\ntasks:\n" + "".join(_task_line(r) for r in tasks)
    path.write_text(_replaced(text, replace) + append)


def alias_bomb_catalog(path: Path, string_bytes: int = 65536, aliases: int = 300_000) -> None:
    """The bundled catalog whose first model's `sources` lists `aliases` aliases of one
    `string_bytes` string: few values, but gigabytes of text once expanded."""
    text = BUNDLED_CATALOG.read_text()
    start = text.index("    sources:\n")
    end = text.index("\n\n", start)
    bomb = f'    sources: [&big "{"x" * string_bytes}", ' + ", ".join(["*big"] * aliases) + "]"
    path.write_text(text[:start] + bomb + text[end:])


def laughs(path: Path, prefix: str, levels: int = 9, fanout: int = 10, suffix: str = "") -> None:
    """ "Billion laughs": each level a list of `fanout` aliases of the level below, all in one flow
    list written after `prefix` (e.g. `name: `): the document expands to fanout**levels values."""
    anchors = ["&a0 [lol]"]
    for level in range(1, levels + 1):
        anchors.append(f"&a{level} [" + ", ".join([f"*a{level - 1}"] * fanout) + "]")
    path.write_text(prefix + "[" + ", ".join(anchors) + "]\n" + suffix)


def aliased_tasks(path: Path, copies: int = 200_000) -> None:
    """A YAML workload whose task list repeats one anchored task `copies` times by alias."""
    row = _workload_rows()[0]
    task = _task_line(row).strip().removeprefix("- ")
    path.write_text("tasks:\n  - &t " + task + "\n" + "  - *t\n" * copies)


def deep(path: Path, prefix: str, depth: int, flow: bool = True, suffix: str = "", items: int = 1) -> None:
    """`prefix` followed by lists nested `depth` deep (flow `[[[...]]]` or block `- - -`), the
    innermost holding `items` values."""
    if flow:
        body = "[" * depth + ",".join(["1"] * items) + "]" * depth
        path.write_text(prefix + body + "\n" + suffix)
    else:
        body = "".join("\n" + "  " * (i + 1) + "k:" for i in range(depth)) + " 1"
        path.write_text(prefix + body + "\n" + suffix)


def huge_scalar(
    path: Path, old: str = "name: seven-tiers-2025", new: str = "name: ", end: str = "", size: int = 5_000_000
) -> None:
    """The bundled catalog with `old` replaced by `new`, `size` x's and `end`: one value that long."""
    text = BUNDLED_CATALOG.read_text()
    assert old in text
    path.write_text(text.replace(old, new + "x" * size + end, 1))


def many_quality_keys(path: Path, keys: int = 100_000) -> None:
    """The bundled catalog whose first model also rates `keys` made-up task types."""
    text = BUNDLED_CATALOG.read_text()
    old = "    quality:\n      classification: 96\n"
    assert old in text
    extra = "".join(f"      t{i}: 50\n" for i in range(keys))
    path.write_text(text.replace(old, old + extra, 1))


def padded(path: Path, mib: float = 9.0) -> None:
    """The bundled catalog followed by comment lines up to `mib` MiB."""
    text = BUNDLED_CATALOG.read_text()
    line = "# " + "padding " * 12 + "\n"
    path.write_text(text + line * int(mib * 2**20 / len(line)))


def crlf_bom(path: Path, source: str = "catalog") -> None:
    """A bundled catalog or policy saved by Windows Notepad: a byte-order mark and CRLF line ends."""
    text = (BUNDLED_CATALOG if source == "catalog" else BUNDLED_POLICY).read_text()
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())


def alias_quality(path: Path) -> None:
    """The bundled catalog whose second model takes the first's quality map by alias (`quality: *q`)."""
    text = BUNDLED_CATALOG.read_text()
    text = text.replace("    quality:\n", "    quality: &q\n", 1)
    first = text.index("    quality:\n")
    end = text.index("    sources:\n", first)
    path.write_text(text[:first] + "    quality: *q\n" + text[end:])


def eval_csv(path: Path, text: str) -> None:
    path.write_text(text)


RECIPES = {
    "yaml_base_policy_with": base_policy_with,
    "yaml_text_file": text_file,
    "yaml_workload_yaml": workload_yaml,
    "yaml_alias_bomb_catalog": alias_bomb_catalog,
    "yaml_laughs": laughs,
    "yaml_aliased_tasks": aliased_tasks,
    "yaml_deep": deep,
    "yaml_huge_scalar": huge_scalar,
    "yaml_many_quality_keys": many_quality_keys,
    "yaml_padded": padded,
    "yaml_crlf_bom": crlf_bom,
    "yaml_alias_quality": alias_quality,
    "yaml_eval_csv": eval_csv,
    "base_catalog_with": base_catalog_with,
}


# --- checks: what an exit-0 case must have produced ---


def _refused_as_failure(check):
    """A file the check reads back that router-opt itself refuses fails the check (an
    AssertionError the runner reports), not the runner."""
    import functools

    from router_opt.errors import InputError

    @functools.wraps(check)
    def run(case_dir: Path, stdout: str, stderr: str) -> None:
        try:
            check(case_dir, stdout, stderr)
        except InputError as exc:
            raise AssertionError(f"router-opt refuses what the command wrote or read: {exc}") from None

    return run


def _load_catalog(path: Path):
    from router_opt.io.loaders import load_catalog

    return load_catalog(path)


def same_catalog_as_bundled(case_dir: Path, stdout: str, stderr: str) -> None:
    """catalog.yaml (anchors, comments, BOM, CRLF...) reads as the bundled catalog, value for value."""
    assert _load_catalog(case_dir / "catalog.yaml") == _load_catalog(BUNDLED_CATALOG)


def same_policy_as_bundled(case_dir: Path, stdout: str, stderr: str) -> None:
    from router_opt.io.loaders import load_policy

    mine = load_policy(case_dir / "policy.yaml").model_dump(exclude={"source_path"})
    assert mine == load_policy(BUNDLED_POLICY).model_dump(exclude={"source_path"})


def aliased_quality_shared(case_dir: Path, stdout: str, stderr: str) -> None:
    """Two models given one quality map by alias rate the same task types with the same scores."""
    catalog = _load_catalog(case_dir / "catalog.yaml")
    first, second = catalog.models[0], catalog.models[1]
    assert first.quality == second.quality and len(first.quality) == 17, (first.quality, second.quality)
    assert "7 models" in stdout, stdout


def merged_model(case_dir: Path, stdout: str, stderr: str) -> None:
    """A model made with `<<: *reasoning` has the anchor's fields, its own id and its own price."""
    catalog = _load_catalog(case_dir / "catalog.yaml")
    base = catalog.models[0]
    extra = catalog.models[-1]
    assert extra.id == "reasoning-eu" and extra.input_usd_per_mtok == 6.0, extra
    assert extra.quality == base.quality and extra.tier == base.tier and extra.provider == base.provider
    assert len(catalog.models) == 8


def yaml_1_2_names(case_dir: Path, stdout: str, stderr: str) -> None:
    """`on`, `no`, `off`, `yes` are names in YAML 1.2, not booleans; a quoted date is a date."""
    catalog = _load_catalog(case_dir / "catalog.yaml")
    ids = [m.id for m in catalog.models]
    assert ids[:2] == ["no", "off"], ids
    assert catalog.models[0].provider == "on" and str(catalog.prices_as_of) == "2025-12-31"


def workload_yaml_matches_csv(case_dir: Path, stdout: str, stderr: str) -> None:
    """The plan of the YAML workload is the plan of the CSV it was written from (same $/day)."""
    from router_opt.io.loaders import load_workload

    mine = load_workload(case_dir / "workload.yaml")
    csv_tasks = load_workload(BUNDLED_WORKLOAD).tasks
    assert list(mine.tasks) == list(csv_tasks)
    plan = json.loads((case_dir / "plan.json").read_text())
    assert plan["totals"]["tasks"] == len(csv_tasks) and plan["totals"]["optimal_usd_per_day"] > 0, plan["totals"]


def quality_reads_back(case_dir: Path, stdout: str, stderr: str) -> None:
    """The quality YAML `quality import` wrote is read back by its own loader with the same names."""
    from router_opt.importers.quality import load_quality

    quality = load_quality(case_dir / "q.yaml")
    assert set(quality.models) == {"m1", "m 2: x"}, quality.models
    assert set(quality.models["m1"]) == {": x", "faq", "#tag", "[a]"}, quality.models["m1"]
    assert quality.models["m1"][": x"] == 100.0


def many_task_types_rated(case_dir: Path, stdout: str, stderr: str) -> None:
    assert "20017 task types" in stdout, stdout


CHECKS = {
    "yaml_same_catalog_as_bundled": _refused_as_failure(same_catalog_as_bundled),
    "yaml_same_policy_as_bundled": _refused_as_failure(same_policy_as_bundled),
    "yaml_aliased_quality_shared": _refused_as_failure(aliased_quality_shared),
    "yaml_merged_model": _refused_as_failure(merged_model),
    "yaml_yaml_1_2_names": _refused_as_failure(yaml_1_2_names),
    "yaml_workload_yaml_matches_csv": _refused_as_failure(workload_yaml_matches_csv),
    "yaml_quality_reads_back": _refused_as_failure(quality_reads_back),
    "yaml_many_task_types_rated": _refused_as_failure(many_task_types_rated),
}
