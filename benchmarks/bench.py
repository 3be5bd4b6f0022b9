"""The pipeline's stages at the study's size and at 100,000 clinics, and exact Fisher on its tables.

``make bench`` (see benchmarks/README.md) writes ``reports/bench.md``. Everything goes through
public functions: each stage's ``run(paths, params)`` in a process of its own (its time and peak
resident memory), in a temporary folder laid out as a project, on data the synthesizer writes at
``scale`` 1 (317 clinics) and, unless ``--quick``, at the scale of every US primary care clinic
(``--clinics``, 100,000 by default), where every stage must stay within 4 GB; then
``ccanalysis.stats.fisher_exact`` (and SciPy's, for 2 x 2) on the count tables of every item the
tables test with Fisher's test, read from the tables the run wrote. Unless ``--quick``, also the
build and the test loop, in a ``git clone`` of the committed project (its own ``.venv``): fresh
set-up and ``make all``, the no-op, the rebuild after touching every input against seven bare
notebooks (the runner on a one-cell notebook importing pandas, scipy.stats, statsmodels.api and
matplotlib; target: at most 0.8 x), ``make unit`` (target 30 s), ``make coverage`` and ``make
test`` from a fresh clone, set-up included, as CI runs it (target 120 s).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("synth", "clean", "classify", "tables", "sensitivity", "figures", "replication")
STUDY_CLINICS = 317
MEMORY_LIMIT_MB = 4096
SEED = 20240325


def _scaled_recruitment(source: Path, target: Path, scale: int) -> None:
    """The recruitment counts of the flow diagram for a sample ``scale`` times the study's (every
    count multiplied; eligible = certified - ineligible still holds), so Figure 1 is drawn too."""
    with source.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    values = {r["key"]: round(float(r["value"]) * scale) for r in rows}
    values["eligible_clinics"] = values["mn_certified_clinics_2020"] - values["ineligible_clinics"]
    with target.open("w", encoding="utf-8", newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows({**r, "value": values[r["key"]]} for r in rows)


def worker(stages: list[str], work: Path, scale: int) -> list[dict[str, float]]:
    """Run each stage's ``run(paths, params)`` in turn on the project laid out in ``work``; the
    process's peak resident memory after each."""
    import importlib

    from ccanalysis.paths import Paths
    from ccanalysis.stage import Params

    paths = Paths.of(work, dictionary=ROOT / "data" / "raw" / "cc_survey_dictionary.csv")
    if "synth" in stages:
        paths.raw.mkdir(parents=True, exist_ok=True)
        if not (paths.root / "data" / "published").exists():  # the synthesizer's targets
            (paths.root / "data" / "published").symlink_to(ROOT / "data" / "published")
        _scaled_recruitment(Paths.of(ROOT).recruitment_flow, paths.recruitment_flow, scale)
    rows = []
    for stage in stages:
        start = time.perf_counter()
        importlib.import_module(f"ccanalysis.{stage}").run(paths, Params(seed=SEED, scale=scale))
        seconds = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append({"stage": stage, "scale": scale, "seconds": seconds, "peak_mb": peak_mb})
    return rows


def run_stages(work: Path, scale: int, one_process: bool) -> list[dict[str, object]]:
    """Every stage in order, each in a process of its own (its own peak memory), or all in one
    (``one_process``: the quick run, which spares six start-ups); stops at the first failure."""
    rows = []
    for group in [STAGES] if one_process else [[stage] for stage in STAGES]:
        cmd = [sys.executable, __file__, "--worker", ",".join(group), "--work", str(work)]
        proc = subprocess.run(
            [*cmd, "--scale", str(scale)], cwd=ROOT, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise SystemExit(f"bench: {group} at scale {scale} failed:\n{proc.stderr[-3000:]}")
        for row in json.loads(proc.stdout.strip().splitlines()[-1]):
            rows.append(row)
            print(
                f"[bench] scale {scale} {row['stage']}: {row['seconds']:.1f} s, {row['peak_mb']:.0f} MB"
            )
    return rows


def count_tables(tables: Path) -> list[tuple[str, list[list[int]], float]]:
    """(table:item, count table, the p-value the table printed) of every item tested with
    Fisher's test: levels by groups (a single level against the rest of its denominator)."""
    import pandas as pd

    from ccanalysis.tables.read import read_long

    found = []
    for path in sorted(tables.glob("table?.csv")):
        long = read_long(path)
        tested = long[(long["measure"] == "p") & long["test"].astype(str).str.startswith("fisher")]
        for item, p in zip(tested["item"], tested["value"], strict=True):
            rows = long[(long["item"] == item) & long["measure"].isin(["n", "denom"])]
            wide = rows.pivot_table(index=["level", "group"], columns="measure", values="value")
            n = wide["n"].unstack("group")
            groups = [g for g in n.columns if str(g) not in {"all", "total"}]
            n = n[groups].dropna()
            if len(n) == 1 and "denom" in wide:
                n = pd.concat([n, wide["denom"].unstack("group")[groups] - n])
            if n.shape[0] >= 2 and n.notna().all().all():
                found.append((f"{path.stem}:{item}", n.astype(int).values.tolist(), float(p)))
    return found


def bench_fisher(tables: Path) -> list[dict[str, object]]:
    """Time ``ccanalysis.stats.fisher_exact`` on each count table; its p-value against the one
    printed, and against SciPy's on a 2 x 2 table."""
    import scipy.stats

    from ccanalysis import stats

    rows = []
    for name, table, printed in count_tables(tables):
        start = time.perf_counter()
        result = stats.fisher_exact(table)
        seconds = time.perf_counter() - start
        p = getattr(result, "pvalue", getattr(result, "p", math.nan))  # scipy's name, or ours
        shape = f"{len(table)} x {len(table[0])}"
        scipy_p = scipy.stats.fisher_exact(table).pvalue if shape == "2 x 2" else math.nan
        rows.append(
            {
                "table": name,
                "shape": shape,
                "n": sum(map(sum, table)),
                "seconds": seconds,
                "p": p,
                "printed_p": printed,
                "scipy_p": scipy_p,
            }
        )
    return rows


#: What a rebuild after "touching every input" touches: the instrument, the printed tables, the
#: recruitment counts and the table specification (the synthetic export follows from them).
INPUTS = (
    "data/raw/cc_survey_dictionary.csv",
    "data/raw/recruitment_flow.csv",
    "data/published/published_long.csv",
    "src/ccanalysis/specs/tables.csv",
)
FLOOR = "import pandas, scipy.stats, statsmodels.api, matplotlib.pyplot"


#: The environment of a measured command: that of a make a user starts. Under `make bench` the
#: inherited MAKEFLAGS name a jobserver the child cannot join, so it ran at -j1 (make all 46 s).
USER_ENV = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}


def _timed(cmd: str, cwd: Path, timeout: int = 1800) -> float:
    """Wall seconds of a shell command (which must succeed), as a user would start it."""
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, shell=True, cwd=cwd, env=USER_ENV, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise SystemExit(f"bench: `{cmd}` failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
    return time.perf_counter() - start


def bench_build() -> list[tuple[str, float, str]]:
    """(measure, seconds, target) of the build and the test loop in fresh clones of the project."""
    import nbformat

    rows = []
    with tempfile.TemporaryDirectory(prefix="ccanalysis-bench-clone-") as tmp:
        clone = Path(tmp) / "project"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        rows.append(
            ("make setup (fresh .venv, package cache warm)", _timed("make setup", clone), "")
        )
        rows.append(("make all (set-up done)", _timed("make all", clone), "30 s"))
        rows.append(("no-op make all", _timed("make all", clone), "2 s"))
        touch = " ".join(INPUTS)
        rebuild = _timed(f"touch {touch} && make all", clone)
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(FLOOR)])
        nbformat.write(nb, clone / "floor.ipynb")
        run = ".venv/bin/python -m ccanalysis.pipeline run floor.ipynb floor.out.ipynb"
        _timed(run, clone)  # warm-up (font cache)
        floor = min(_timed(run, clone) for _ in range(3))
        rows.append(("seven bare notebooks (7 x the runner on one import cell)", 7 * floor, ""))
        rows.append(
            ("rebuild after touching every input", rebuild, f"{0.8 * 7 * floor:.1f} s (0.8 x)")
        )
        rows.append(("make unit (env ready)", _timed("make unit", clone), "30 s"))
        rows.append(
            (
                "make coverage (the coverage study, after make all)",
                _timed("make coverage", clone),
                "",
            )
        )
    with tempfile.TemporaryDirectory(prefix="ccanalysis-bench-test-") as tmp:
        clone = Path(tmp) / "project"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        rows.append(
            ("make test (fresh clone, set-up included)", _timed("make test", clone), "120 s")
        )
    for name, seconds, target in rows:
        print(f"[bench] {name}: {seconds:.1f} s" + (f" (target {target})" if target else ""))
    return rows


def write_report(
    stages: list[dict], fisher: list[dict], out: Path, build: list[tuple[str, float, str]] = ()
) -> None:
    """``reports/bench.md``: the stages by scale, then Fisher per table."""
    lines = [
        "# Benchmark",
        "",
        f"Python {sys.version.split()[0]}; {time.strftime('%Y-%m-%d')}.",
        "",
    ]
    if build:
        lines += ["| build and tests (fresh clone) | seconds | target |", "|---|---|---|"]
        lines += [f"| {name} | {sec:.1f} | {target} |" for name, sec, target in build]
        lines += [""]
    lines += [
        "| scale | clinics | stage | seconds | peak RSS (MB) | within 4 GB |",
        "|---|---|---|---|---|---|",
    ]
    for r in stages:
        ok = "yes" if r["peak_mb"] <= MEMORY_LIMIT_MB else "NO"
        lines.append(
            f"| {r['scale']} | {r['scale'] * STUDY_CLINICS} | {r['stage']} | "
            f"{r['seconds']:.2f} | {r['peak_mb']:.0f} | {ok} |"
        )
    same = sum(math.isclose(r["p"], r["printed_p"], rel_tol=1e-9) for r in fisher)
    lines += [
        "",
        "Exact Fisher (`ccanalysis.stats.fisher_exact`) on the count table (levels by groups) of "
        "every item the tables test with it, read from the tables written; p as the table "
        f"printed it ({same} of {len(fisher)} equal; the others test another split of the item "
        "than its levels), and SciPy's on 2 x 2 tables.",
        "",
    ]
    lines += [
        "| table:item | shape | n | ms | p | p in the table | SciPy p |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in fisher:
        lines.append(
            f"| {r['table']} | {r['shape']} | {r['n']} | {r['seconds'] * 1000:.1f} | "
            f"{r['p']:.6g} | {r['printed_p']:.6g} | {r['scipy_p']:.6g} |"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="the study's size only, every stage in one process"
    )
    parser.add_argument("--clinics", type=int, default=100_000, help="the large run's clinics")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench.md")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker.split(","), args.work, args.scale)))
        return
    scales = [1] if args.quick else [1, math.ceil(args.clinics / STUDY_CLINICS)]
    stages, fisher = [], []
    for scale in scales:
        work = Path(tempfile.mkdtemp(prefix=f"ccanalysis-bench-{scale}-"))
        try:
            stages += run_stages(work, scale, one_process=args.quick)
            if scale == 1:
                fisher = bench_fisher(work / "tables")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if not fisher:
        raise SystemExit("bench: no count table found for Fisher's test in the tables written")
    build = [] if args.quick else bench_build()
    write_report(stages, fisher, args.out, build)
    over = [r["stage"] for r in stages if r["peak_mb"] > MEMORY_LIMIT_MB]
    print(f"[bench] {args.out} written; {len(fisher)} Fisher tables")
    if over:
        raise SystemExit(f"bench: over {MEMORY_LIMIT_MB} MB: {over}")


if __name__ == "__main__":
    main()
