"""Run hostile-input cases through the real `router-opt` entry point, each in its own process, with
its time and peak memory measured.

A case (one entry of tests/data/hostile/<kind>/cases.yaml):

    - id: catalog-alias-bytes-bomb        # unique across the corpus
      shape: bomb                         # what the case is (SHAPES below)
      why: 300k aliases of a 64 KiB string  # what it does to a naive loader
      files: [catalog.yaml]               # static files of this folder, copied into the case's directory
      make: {recipe: alias_bomb, path: catalog.yaml, args: {...}}   # or a list of them (recipes_*.py)
      run: [optimize, -c, catalog.yaml]   # arguments to router-opt; {dir}: the case's directory,
                                          # {data}: tests/data, {base}: tests/data/base
      exit: 2                             # 0 or 2; never 1
      output: ["catalog.yaml:3:5", "models[0].id"]   # text the output must hold (file, line/row, field)
      not_output: ["..."]                 # text it must not hold
      check: name                         # for exit 0: CHECKS[name](case_dir, stdout, stderr) asserts more

Each case runs with its directory as the working directory, so messages name files as given. The
process is forked from a "zygote" that has already imported router_opt.cli (a fresh interpreter per
case would spend most of the corpus's time importing numpy and pydantic); its peak RSS comes from
wait4. The budget the corpus must meet: LIMIT_SECONDS and LIMIT_BYTES per case.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
CORPUS = DATA / "hostile"
LIMIT_SECONDS = 10.0
LIMIT_BYTES = 2**30
# A case is killed past this (the limit is checked separately): a bomb must not take the machine down.
KILL_SECONDS = 30
ADDRESS_SPACE_BYTES = 8 * 2**30
SHAPES = {"bomb", "exit1", "silent", "unclear", "tags", "temp", "capped", "workbook", "valid"}


@dataclass
class Case:
    id: str
    kind: str
    folder: Path
    shape: str
    why: str
    run: list[str]
    exit: int
    output: list[str] = field(default_factory=list)
    not_output: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    make: list[dict] = field(default_factory=list)
    check: str | None = None


@dataclass
class Outcome:
    exit: int | None
    signal: int | None
    seconds: float
    max_rss_bytes: int
    stdout: str
    stderr: str
    directory: Path


def load_cases(corpus: Path = CORPUS) -> list[Case]:
    yaml = YAML(typ="safe", pure=True)
    cases = []
    for manifest in sorted(corpus.glob("*/cases.yaml")):
        for entry in yaml.load(manifest.read_text()) or []:
            make = entry.get("make") or []
            cases.append(
                Case(
                    id=entry["id"],
                    kind=manifest.parent.name,
                    folder=manifest.parent,
                    shape=entry["shape"],
                    why=entry["why"],
                    run=[str(a) for a in entry["run"]],
                    exit=int(entry["exit"]),
                    output=list(entry.get("output") or []),
                    not_output=list(entry.get("not_output") or []),
                    files=list(entry.get("files") or []),
                    make=[make] if isinstance(make, dict) else list(make),
                    check=entry.get("check"),
                )
            )
    return cases


def _registries() -> tuple[dict, dict]:
    """RECIPES and CHECKS from every tests/hostile/recipes_*.py."""
    recipes, checks = {}, {}
    for path in sorted(Path(__file__).parent.glob("recipes_*.py")):
        module = importlib.import_module(f"tests.hostile.{path.stem}")
        for name, function in getattr(module, "RECIPES", {}).items():
            assert name not in recipes, f"recipe {name} defined twice"
            recipes[name] = function
        for name, function in getattr(module, "CHECKS", {}).items():
            assert name not in checks, f"check {name} defined twice"
            checks[name] = function
    return recipes, checks


def substitute(text: str, directory: Path) -> str:
    return text.replace("{dir}", str(directory)).replace("{data}", str(DATA)).replace("{base}", str(DATA / "base"))


def prepare(case: Case, directory: Path, recipes: dict) -> list[str]:
    """The case's files in `directory` (made fresh), and its arguments."""
    if directory.exists():
        subprocess.run(["chmod", "-R", "u+rwX", str(directory)], check=False)
        shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    for name in case.files:
        shutil.copyfile(case.folder / name, directory / Path(name).name)
    for step in case.make:
        recipes[step["recipe"]](directory / step.get("path", ""), **(step.get("args") or {}))
    return [substitute(a, directory) for a in case.run]


def run_cases(cases: list[Case], workdir: Path) -> dict[str, Outcome]:
    """Every case through one zygote process, each prepared just before it runs (a recipe's reader
    process or immutable folder must still be there when its case runs, however long the corpus
    takes); outcomes by case id."""
    recipes, _ = _registries()
    env = {k: v for k, v in os.environ.items() if k != "ROUTER_OPT_DEBUG"} | {"COLUMNS": "200", "NO_COLOR": "1"}
    zygote = subprocess.Popen(
        [sys.executable, "-m", "tests.hostile.zygote"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    outcomes = {}
    try:
        for case in cases:
            directory = workdir / case.id
            args = prepare(case, directory, recipes)
            zygote.stdin.write(json.dumps({"id": case.id, "args": args, "dir": str(directory)}) + "\n")
            zygote.stdin.flush()
            line = zygote.stdout.readline()
            if not line:
                raise RuntimeError(f"the zygote failed at {case.id}: {zygote.stderr.read()[-4000:]}")
            record = json.loads(line)
            outcomes[record["id"]] = Outcome(
                exit=record["exit"],
                signal=record["signal"],
                seconds=record["seconds"],
                max_rss_bytes=record["max_rss_bytes"],
                stdout=(directory.parent / f"{record['id']}.stdout").read_text(errors="replace"),
                stderr=(directory.parent / f"{record['id']}.stderr").read_text(errors="replace"),
                directory=directory,
            )
    finally:
        zygote.stdin.close()
        zygote.wait(timeout=60)
    return outcomes


def problems(case: Case, outcome: Outcome) -> list[str]:
    """What is wrong with one case's outcome (empty: it passed)."""
    _, checks = _registries()
    out = []
    text = outcome.stdout + outcome.stderr
    if outcome.signal is not None:
        out.append(f"killed by signal {outcome.signal} after {outcome.seconds:.1f} s")
    if outcome.exit == 1:
        out.append("exit 1 (an internal error on user input)")
    elif outcome.exit != case.exit:
        out.append(f"exit {outcome.exit}, expected {case.exit}")
    if "Traceback" in text or "internal error" in text:
        out.append("a traceback or internal error")
    if outcome.seconds >= LIMIT_SECONDS:
        out.append(f"took {outcome.seconds:.1f} s (limit {LIMIT_SECONDS:g} s)")
    if outcome.max_rss_bytes >= LIMIT_BYTES:
        out.append(f"peak memory {outcome.max_rss_bytes / 2**20:.0f} MiB (limit {LIMIT_BYTES / 2**20:.0f} MiB)")
    for expected in case.output:
        if substitute(expected, outcome.directory) not in text:
            out.append(f"output lacks {expected!r}")
    for unexpected in case.not_output:
        if substitute(unexpected, outcome.directory) in text:
            out.append(f"output holds {unexpected!r}")
    if case.exit == 2 and "error" not in text.lower():
        out.append("exit 2 without an error message")
    if case.check and not out:
        try:
            checks[case.check](outcome.directory, outcome.stdout, outcome.stderr)
        except AssertionError as exc:
            out.append(f"check {case.check}: {exc}")
    if out:
        out.append(f"output: {text[-1500:]}")
    return out


def main() -> int:
    """`python -m tests.hostile.runner [KIND ...]`: run the corpus (or some kinds), print each case."""
    import tempfile

    kinds = set(sys.argv[1:])
    cases = [c for c in load_cases() if not kinds or c.kind in kinds]
    with tempfile.TemporaryDirectory() as workdir:
        outcomes = run_cases(cases, Path(workdir))
        failed = 0
        for case in cases:
            outcome = outcomes[case.id]
            found = problems(case, outcome)
            failed += bool(found)
            status = "FAIL" if found else "ok"
            print(
                f"{status:4} {case.id:45} exit {outcome.exit} {outcome.seconds:5.2f} s {outcome.max_rss_bytes / 2**20:6.0f} MiB"
            )
            for line in found:
                print(f"     {line}")
        print(f"{len(cases) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
