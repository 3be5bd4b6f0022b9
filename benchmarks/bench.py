"""Benchmark of the pipeline and its library stages (``make bench``; see benchmarks/README.md).

Writes ``reports/bench.md`` and ``reports/bench.csv`` (atomically, ``ccanalysis.io``). Sections:

* ``make`` timings in a temporary ``git clone`` of the project (so the project's own ``.venv`` and
  outputs are never touched; uncommitted work is not in the clone): fresh set-up (``make setup``
  from the lock, package cache warm) and fresh ``make all``; ``make all`` from clean outputs with
  the environment ready, as it runs by default (independent stages at once) and with ``-j1``; the
  no-op ``make all``; per-notebook stage times (as the pipeline prints them, from the ``-j1`` run)
  and the HTML rendering of each notebook;
* the floor: the pipeline's runner executing a one-cell notebook that imports the libraries, in the
  kernel (and, for reference, the same with papermill's command line);
* the library stages at scale 1 (317 clinics), 100 and 300, each in a subprocess (peak RSS);
* exact Fisher on every table that ``build_tables`` tests, against SciPy and R's ``fisher.test``.

Library stages and Fisher run with this interpreter, i.e. on the working tree, not the clone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = [
    "00_synthesize",
    "01_clean",
    "02_classify",
    "03_tables",
    "04_sensitivity",
    "05_figures",
    "06_replication",
]
STAGES = ["clean", "classify", "tables", "sensitivity", "figures", "replication"]
FLOOR_IMPORTS = """import numpy, pandas, scipy, scipy.stats, statsmodels.api, matplotlib.pyplot
import ccanalysis, ccanalysis.io, ccanalysis.instrument, ccanalysis.clean
import ccanalysis.classify, ccanalysis.stats, ccanalysis.tables, ccanalysis.sensitivity
import ccanalysis.figures, ccanalysis.replication, ccanalysis.synth, ccanalysis.pipeline
"""

ROWS: list[dict[str, object]] = []
TIMEOUT = 600.0  # seconds per library stage process (--timeout)
MEM_LIMIT_GB = 8.0  # address-space cap per library stage process (--mem-limit-gb)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def record(
    section: str,
    name: str,
    values: list[float],
    unit: str = "s",
    note: str = "",
    mem_mb: float | None = None,
) -> None:
    vals = [v for v in values if v is not None]
    ROWS.append(
        {
            "section": section,
            "name": name,
            "n": len(vals),
            "median": statistics.median(vals) if vals else float("nan"),
            "min": min(vals) if vals else float("nan"),
            "max": max(vals) if vals else float("nan"),
            "unit": unit,
            "peak_rss_mb": mem_mb if mem_mb is not None else float("nan"),
            "note": note,
        }
    )


def med(section: str, name: str) -> float:
    for r in ROWS:
        if r["section"] == section and r["name"] == name:
            return float(r["median"])  # type: ignore[arg-type]
    return float("nan")


def sh(
    cmd: list[str] | str, cwd: Path, check: bool = True, timeout: float | None = None
) -> tuple[float, str]:
    """Run a command; return (wall seconds, stdout+stderr)."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=cwd, shell=isinstance(cmd, str), capture_output=True, text=True, timeout=timeout
    )
    dt = time.perf_counter() - t0
    out = proc.stdout + proc.stderr
    if check and proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed in {cwd} ({proc.returncode}):\n{out[-3000:]}")
    return dt, out


def stage_times(output: str) -> dict[str, float]:
    """The per-stage seconds printed by ``python -m ccanalysis.pipeline times``."""
    return {
        m.group(1): float(m.group(2))
        for m in re.finditer(r"^\s+(\d\d_\w+)\s+([\d.]+) s$", output, flags=re.M)
    }


# ---------------------------------------------------------------------------------------------
# make, in a clone
# ---------------------------------------------------------------------------------------------


def bench_make(reps: int, html_reps: int) -> None:
    clone = Path(tempfile.mkdtemp(prefix="benchclone-", dir="/tmp"))
    shutil.rmtree(clone)
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    log(f"clone: {clone}")
    try:
        setup, fresh, fresh_total, clean_all, serial, noop = [], [], [], [], [], []
        per_stage: dict[str, list[float]] = {nb: [] for nb in NOTEBOOKS}
        for i in range(reps):
            sh("make distclean", clone)
            t_setup, _ = sh("make setup", clone)
            t_all, _ = sh("make all", clone)
            setup.append(t_setup)
            fresh.append(t_all)
            fresh_total.append(t_setup + t_all)
            log(f"rep {i + 1}/{reps}: fresh setup {t_setup:.1f} s + make all {t_all:.1f} s")
            sh("make clean", clone)
            t_clean, _ = sh("make all", clone)
            clean_all.append(t_clean)
            sh("make clean", clone)
            t_serial, out = sh("make -j1 all", clone)
            serial.append(t_serial)
            for nb, s in stage_times(out).items():  # one at a time: each notebook alone
                per_stage.setdefault(nb, []).append(s)
            t_noop, out = sh("make all", clone)
            noop.append(t_noop)
            if "up to date" not in out:
                log("warning: the no-op make all ran something")
            log(
                f"rep {i + 1}/{reps}: clean make all {t_clean:.1f} s, -j1 {t_serial:.1f} s, "
                f"no-op {t_noop:.2f} s"
            )
        record("make", "fresh set-up (make setup)", setup)
        record("make", "fresh make all (after fresh set-up)", fresh)
        record("make", "fresh set-up + make all", fresh_total)
        record(
            "make",
            "make all from clean, env ready",
            clean_all,
            note=f"independent stages at once (JOBS = {os.cpu_count()} cores)",
        )
        record("make", "make -j1 all from clean, env ready", serial, note="one stage at a time")
        record("make", "no-op make all", noop)
        for nb in NOTEBOOKS:
            record(
                "notebook",
                f"{nb} (papermill run, as printed)",
                per_stage.get(nb, []),
                note="from make -j1 all: kernel start, imports and cells",
            )
        py = str(clone / ".venv" / "bin" / "python")
        for nb in NOTEBOOKS:
            vals = [
                sh([py, "-m", "ccanalysis.report", "html", f"reports/{nb}.ipynb"], clone)[0]
                for _ in range(html_reps)
            ]
            record("notebook", f"{nb} HTML render (process)", vals)
        bench_floor(clone, reps)
    finally:
        shutil.rmtree(clone, ignore_errors=True)


def bench_tests(reps: int) -> None:
    """The test loop: ``make test`` on a clean clone (set-up included, as CI runs it) and
    ``make unit`` with the environment ready (what a contributor runs after every change)."""
    clone = Path(tempfile.mkdtemp(prefix="benchtests-", dir="/tmp"))
    shutil.rmtree(clone)
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    try:
        full, unit = [], []
        for i in range(reps):
            sh("make distclean", clone)
            full.append(sh("make test", clone, timeout=1800)[0])
            unit.append(sh("make unit", clone)[0])
            log(
                f"rep {i + 1}/{reps}: make test (clean clone) {full[-1]:.1f} s, unit {unit[-1]:.1f} s"
            )
        record("tests", "make test on a clean clone (set-up included)", full, note="target 120 s")
        record("tests", "make unit, env ready", unit, note="target 30 s")
    finally:
        shutil.rmtree(clone, ignore_errors=True)


def bench_floor(clone: Path, reps: int) -> None:
    """The pipeline's runner on a one-cell notebook importing what the notebooks import."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(FLOOR_IMPORTS)]
    nb.metadata["kernelspec"] = {
        "name": "ccanalysis",
        "display_name": "ccanalysis",
        "language": "python",
    }
    src = clone / "floor.ipynb"
    nbformat.write(nb, str(src))
    py = str(clone / ".venv" / "bin" / "python")
    # The floor is measured with the runner make uses (papermill's API in the project's kernel).
    run = [py, "-m", "ccanalysis.pipeline", "run", "floor.ipynb", "floor.out.ipynb"]
    sh(run, clone)  # warm-up (font cache)
    runs = [sh(run, clone)[0] for _ in range(reps)]
    record(
        "floor",
        "one-cell notebook importing the notebooks' libraries (kernel + imports)",
        runs,
        note="python -m ccanalysis.pipeline run: process, papermill, kernel start, imports, save",
    )
    cli = [
        py,
        "-m",
        "papermill",
        "-k",
        "ccanalysis",
        "--no-progress-bar",
        "floor.ipynb",
        "floor.out.ipynb",
    ]
    record(
        "floor",
        "the same notebook with the papermill command line",
        [sh(cli, clone)[0] for _ in range(reps)],
        note="for reference: also imports jsonschema's rfc3987_syntax grammar (~0.9 s)",
    )
    html = [
        sh([py, "-m", "ccanalysis.report", "html", "floor.out.ipynb"], clone)[0]
        for _ in range(reps)
    ]
    record("floor", "HTML render of that notebook (process)", html)
    record("floor", "floor x 7 notebooks", [7 * r for r in runs])
    record(
        "floor",
        "(floor + HTML) x 7 notebooks",
        [7 * (a + b) for a, b in zip(runs, html, strict=True)],
    )


# ---------------------------------------------------------------------------------------------
# library stages, one subprocess each
# ---------------------------------------------------------------------------------------------


def _scaled_recruitment(source: Path, target: Path, scale: float) -> None:
    """The recruitment counts of the flow diagram for a sample ``scale`` times the study's: every
    count multiplied (eligible = certified - ineligible still holds), so that the flow diagram's
    checks pass and all figures are drawn at every scale."""
    import csv

    with source.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    values = {r["key"]: round(float(r["value"]) * scale) for r in rows}
    values["eligible_clinics"] = values["mn_certified_clinics_2020"] - values["ineligible_clinics"]
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows({**r, "value": values[r["key"]]} for r in rows)


def _link_published(paths: object) -> None:
    """Link the project's printed tables into a work folder laid out as a project."""
    published = paths.published  # type: ignore[attr-defined]
    if not published.exists():
        published.parent.mkdir(parents=True, exist_ok=True)
        published.symlink_to(ROOT / "data" / "published")


def worker(stage: str, work: Path, scale: float, n_boot: int, seed: int) -> dict[str, object]:
    """One library stage on the data in ``work``; prints JSON (seconds, peak RSS)."""
    import pandas as pd

    from ccanalysis import classify, clean, figures, replication, sensitivity, synth, tables
    from ccanalysis.paths import Paths
    from ccanalysis.stage import Params

    dictionary = ROOT / "data" / "raw" / "cc_survey_dictionary.csv"
    # the work directory is laid out as a project (data/raw/synthetic, data/processed, tables, ...)
    paths = Paths.of(work, dictionary=dictionary)
    raw = paths.synthetic
    info: dict[str, object] = {}
    if stage == "synthesize" and scale == 1:
        # the study's size: the committed stand-in the pipeline uses (no re-synthesis)
        t0 = time.perf_counter()
        raw.mkdir(parents=True, exist_ok=True)
        for name in ("cc_survey_export.csv", "clinic_frame.csv"):
            shutil.copy(ROOT / "data" / "raw" / "synthetic" / name, raw / name)
        shutil.copy(Paths.of(ROOT).recruitment_flow, paths.recruitment_flow)
        info["clinics"] = len(pd.read_csv(raw / "clinic_frame.csv"))
    elif stage == "synthesize":
        # the stage itself, on the work folder: the printed tables linked in (its calibration
        # targets), the stand-in written to work/data/raw/synthetic
        _link_published(paths)
        t0 = time.perf_counter()
        artifacts = synth.run(paths, Params(seed=seed, scale=int(scale)))
        info["clinics"] = len(artifacts.results["survey"].frame)
        _scaled_recruitment(Paths.of(ROOT).recruitment_flow, paths.recruitment_flow, scale)
    elif stage == "clean":
        t0 = time.perf_counter()
        clean.run(paths, Params(seed=seed))
    elif stage == "classify":
        t0 = time.perf_counter()
        classify.run(paths, Params(seed=seed))
    elif stage == "tables":
        t0 = time.perf_counter()
        built = tables.run(paths, Params("synthetic", seed)).results["tables"]
        p_rows = pd.concat(built.values()).query("measure == 'p'")
        info["tests"] = {str(k): int(v) for k, v in p_rows["test"].value_counts().items()}
    elif stage == "sensitivity":
        t0 = time.perf_counter()
        art = sensitivity.run(paths, Params(seed=seed), n_boot=n_boot)
        reps = art.results["results"]["replicates"].dropna()
        info["n_boot"] = n_boot
        info["max_replicates"] = int(reps.max()) if len(reps) else 0
    elif stage == "figures":
        t0 = time.perf_counter()
        drawn = figures.run(paths, Params(seed=seed, scale=max(1, round(scale))))
        info["figures"] = len(drawn.results)
    elif stage == "replication":
        _link_published(paths)  # run() reads the printed tables from paths.published
        t0 = time.perf_counter()
        replication.run(paths, Params())
    else:
        raise SystemExit(f"unknown stage {stage}")
    info["seconds"] = time.perf_counter() - t0
    info["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return info


def _limit_memory() -> None:
    """Cap a stage's address space, so that a runaway stage fails alone (MemoryError)."""
    cap = int(MEM_LIMIT_GB * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def run_worker(stage: str, work: Path, scale: float, n_boot: int, seed: int) -> dict[str, object]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        stage,
        "--work",
        str(work),
        "--scale",
        str(scale),
        "--n-boot",
        str(n_boot),
        "--seed",
        str(seed),
    ]
    try:
        proc = subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, preexec_fn=_limit_memory
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(
            f"stage {stage} at scale {scale:g}: timed out after {TIMEOUT:.0f} s"
        ) from None
    if proc.returncode != 0:
        raise RuntimeError(f"stage {stage} at scale {scale} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_library(scales: list[tuple[float, int, int]], seed: int) -> Path | None:
    """Each stage at each scale: (scale, repetitions, bootstrap replicates). Returns the scale-1
    work directory (kept for the Fisher section) or None."""
    keep = None
    for scale, reps, n_boot in scales:
        work = Path(tempfile.mkdtemp(prefix=f"bench-scale{scale:g}-"))
        try:
            syn = run_worker("synthesize", work, scale, n_boot, seed)
        except RuntimeError as exc:
            log(str(exc))
            record(f"scale {scale:g}", "synthesize", [], note="FAILED")
            continue
        n = syn["clinics"]
        record(
            f"scale {scale:g}",
            "synthesize + write (1 run, not a pipeline stage)"
            if scale != 1
            else "input: data/raw/synthetic (committed stand-in, copied)",
            [syn["seconds"]],
            mem_mb=syn["peak_rss_mb"],
            note=f"{n} clinics",
        )
        log(f"scale {scale:g}: {n} clinics ready ({syn['seconds']:.1f} s)")
        res: dict[str, list[dict[str, object]]] = {s: [] for s in STAGES}
        failed: dict[str, str] = {}
        for _ in range(reps):
            for stage in STAGES:
                if stage in failed:
                    continue
                try:
                    res[stage].append(run_worker(stage, work, scale, n_boot, seed))
                except RuntimeError as exc:
                    failed[stage] = str(exc).splitlines()[-1][:200]
                    log(str(exc))
        for stage in STAGES:
            runs = res[stage]
            note = f"{n} clinics; {len(runs)} runs"
            if stage == "figures" and runs:
                note += f"; {runs[0].get('figures')} figures"
            if stage == "sensitivity" and runs:
                note += (
                    f"; cluster bootstrap {n_boot} replicates per row (adaptive: up to "
                    f"{runs[0].get('max_replicates')} near p = 0.05)"
                )
            if stage == "tables" and runs:
                note += f"; tests {runs[0].get('tests')}"
            if stage in failed:
                note += f"; FAILED: {failed[stage]}"
            label = {
                "clean": "read/clean",
                "tables": "tables (run: build, all tests, write csv/html/md/tex/docx)",
            }.get(stage, stage)
            record(
                f"scale {scale:g}",
                label,
                [float(r["seconds"]) for r in runs],  # type: ignore[arg-type]
                mem_mb=max((float(r["peak_rss_mb"]) for r in runs), default=None),  # type: ignore[arg-type]
                note=note,
            )
            if runs:
                log(
                    f"scale {scale:g} {stage}: {statistics.median(float(r['seconds']) for r in runs):.2f} s"
                )  # type: ignore[arg-type]
        if scale == 1 and keep is None:
            keep = work
        else:
            shutil.rmtree(work, ignore_errors=True)
    return keep


# ---------------------------------------------------------------------------------------------
# exact Fisher: ccanalysis vs SciPy vs R
# ---------------------------------------------------------------------------------------------


def capture_fisher_tables(work: Path, seed: int) -> list[tuple[str, object]]:
    import numpy as np
    import pandas as pd

    from ccanalysis import stats, tables
    from ccanalysis.paths import Paths
    from ccanalysis.spec import read_spec
    from ccanalysis.tables.build import ItemBlock

    captured: list[tuple[str, object]] = []
    current = {"table": "?", "id": "?"}
    orig_fisher, orig_test = stats.fisher_exact, ItemBlock.test

    def test(self, test, **kw):  # noqa: ANN001, ANN202
        current["id"] = f"{current['table']}:{self.item}"
        return orig_test(self, test, **kw)

    def fisher(table, **kw):  # noqa: ANN001, ANN202
        captured.append((current["id"], np.array(table, dtype=np.int64).copy()))
        return orig_fisher(table, **kw)

    stats.fisher_exact, ItemBlock.test = fisher, test
    try:
        processed = Paths.of(work).processed
        data = {
            "clinics": pd.read_parquet(processed / "clinics.parquet"),
            "coordinators": pd.read_parquet(processed / "coordinators.parquet"),
        }
        spec = read_spec()
        for t in spec.tables:
            current["table"] = t
            tables.build_table(spec, data, t, seed=seed)
    finally:
        stats.fisher_exact, ItemBlock.test = orig_fisher, orig_test
    return captured


def _time_call(fn, reps: int) -> tuple[float, object]:  # noqa: ANN001
    times, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def bench_fisher(work: Path, seed: int, reps: int) -> None:
    import numpy as np
    import scipy
    import scipy.stats as sps

    from ccanalysis import stats

    captured = capture_fisher_tables(work, seed)
    log(f"fisher: {len(captured)} tables captured from build_tables")
    per: list[dict[str, object]] = []
    for tid, t in captured:
        t_cc, r_cc = _time_call(lambda t=t: stats.fisher_exact(t, seed=seed), reps)
        # SciPy >= 1.15: exact only for 2 x 2; r x c defaults to MonteCarloMethod (9999 tables).
        tt = stats.counts.drop_empty(stats.counts.as_count_table(t))
        try:
            t_sp, r_sp = _time_call(lambda tt=tt: sps.fisher_exact(tt), reps)
            p_sp = float(r_sp.pvalue)
        except Exception as exc:  # noqa: BLE001
            t_sp, p_sp = float("nan"), float("nan")
            log(f"scipy fisher_exact {tid}: {type(exc).__name__}: {exc}")
        per.append(
            {
                "id": tid,
                "shape": "x".join(map(str, t.shape)),
                "n": int(t.sum()),
                "table": t,
                "cc_s": t_cc,
                "cc_p": r_cc.p,
                "cc_test": r_cc.test,
                "scipy_s": t_sp,
                "scipy_p": p_sp,
                "scipy_kind": "exact" if tt.shape == (2, 2) else "Monte Carlo 9999",
            }
        )
    r_res = fisher_in_r([p["table"] for p in per], reps)  # type: ignore[misc]
    for p, r in zip(per, r_res or [{}] * len(per), strict=True):
        p.update(r)
    tot_cc = sum(float(p["cc_s"]) for p in per)
    tot_sp = sum(float(p["scipy_s"]) for p in per)
    shapes = sorted({str(p["shape"]) for p in per})
    record(
        "fisher",
        f"ccanalysis.stats.fisher_exact, all {len(per)} tables (sum of medians)",
        [tot_cc],
        note=f"shapes {shapes}; tests {sorted({str(p['cc_test']) for p in per})}",
    )
    n22 = sum(p["scipy_kind"] == "exact" for p in per)
    record(
        "fisher",
        f"scipy {scipy.__version__} stats.fisher_exact, all tables",
        [tot_sp],
        note=f"exact for the {n22} 2x2 tables; r x c: default MonteCarloMethod (9999 tables), "
        "no exact r x c in SciPy",
    )
    if r_res:
        tot_r = sum(float(p["r_s"]) for p in per)
        fails = [str(p["id"]) for p in per if p.get("r_default_fail")]
        dp = max(
            abs(float(p["cc_p"]) - float(p["r_p"])) / max(float(p["r_p"]), 1e-300)
            for p in per
            if p["cc_test"] == "fisher"
        )
        record(
            "fisher",
            "R fisher.test(workspace=2e7), all tables (sum of medians)",
            [tot_r],
            note=f"{len(fails)} fail with the default workspace: {fails}; "
            f"max relative p difference vs ccanalysis {dp:.1e}",
        )
        record("fisher", "ratio ccanalysis / R (aggregate)", [tot_cc / tot_r], unit="x")
        ratios = [float(p["cc_s"]) / float(p["r_s"]) for p in per if float(p["r_s"]) > 0]
        record("fisher", "ratio ccanalysis / R per table", ratios, unit="x")
    else:
        record("fisher", "R fisher.test", [], note="Rscript not found: R comparison skipped")
    record("fisher", "ratio ccanalysis / scipy (aggregate)", [tot_cc / tot_sp], unit="x")
    global FISHER_DETAIL
    FISHER_DETAIL = per
    del np


FISHER_DETAIL: list[dict[str, object]] = []


def fisher_in_r(tabs: list[object], reps: int) -> list[dict[str, object]] | None:
    rscript = shutil.which("Rscript")
    if not rscript:
        return None
    lines = ["res <- list()", "tabs <- list()"]
    for i, t in enumerate(tabs, start=1):
        vals = ",".join(str(int(v)) for v in t.ravel(order="F"))  # type: ignore[attr-defined]
        lines.append(f"tabs[[{i}]] <- matrix(c({vals}), nrow={t.shape[0]})")  # type: ignore[attr-defined]
    lines.append(f"""
for (i in seq_along(tabs)) {{
  m <- tabs[[i]]; m <- m[rowSums(m) > 0, colSums(m) > 0, drop = FALSE]
  ts <- numeric(0); p <- NA
  for (k in 1:{reps}) {{
    t0 <- Sys.time(); p <- fisher.test(m, workspace = 2e7)$p.value
    ts <- c(ts, as.numeric(difftime(Sys.time(), t0, units = "secs")))
  }}
  fail <- tryCatch({{ fisher.test(m); 0 }}, error = function(e) 1)
  cat(sprintf("%d,%.9g,%.17g,%d\\n", i, median(ts), p, fail))
}}
""")
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write("\n".join(lines))
    try:
        out = subprocess.run(
            [rscript, "--vanilla", fh.name], capture_output=True, text=True, check=True
        ).stdout
    finally:
        os.unlink(fh.name)
    res = []
    for line in out.splitlines():
        i, s, p, fail = line.split(",")
        res.append({"r_s": float(s), "r_p": float(p), "r_default_fail": fail == "1"})
    return res


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------


def targets() -> list[tuple[str, str, bool | None]]:
    def ok(cond: bool) -> bool | None:
        return None if cond != cond else cond  # NaN-safe

    clean_all = med("make", "make all from clean, env ready")
    floor7 = med("floor", "floor x 7 notebooks")
    serial = med("make", "make -j1 all from clean, env ready")
    noop = med("make", "no-op make all")
    fresh = med("make", "fresh set-up + make all")
    big = [
        r
        for r in ROWS
        if str(r["section"]).startswith("scale 300") and str(r["name"]).startswith("tables (run")
    ]
    big_s = float(big[0]["median"]) if big else float("nan")
    big_m = float(big[0]["peak_rss_mb"]) if big else float("nan")
    ratio_r = med("fisher", "ratio ccanalysis / R (aggregate)")
    full_test = med("tests", "make test on a clean clone (set-up included)")
    unit = med("tests", "make unit, env ready")
    sens = {
        str(r["section"]): r for r in ROWS if r["name"] == "sensitivity" and r["n"]
    }  # per scale
    out = []
    if clean_all == clean_all:
        out.append(
            ("make all from clean (env ready) <= 30 s", f"{clean_all:.1f} s", ok(clean_all <= 30))
        )
        out.append(
            (
                "... and within 2x of floor x notebooks",
                f"{clean_all:.1f} s vs 2 x {floor7:.1f} s = {2 * floor7:.1f} s",
                ok(clean_all <= 2 * floor7),
            )
        )
        out.append(
            (
                "independent stages run in parallel (make all vs make -j1 all)",
                f"{clean_all:.1f} s vs {serial:.1f} s",
                ok(clean_all < serial),
            )
        )
        out.append(("no-op make all < 2 s", f"{noop:.2f} s", ok(noop < 2)))
        out.append(("fresh set-up + make all < 90 s", f"{fresh:.1f} s", ok(fresh < 90)))
    if full_test == full_test:
        out.append(
            (
                "make test on a clean clone, set-up included, <= 120 s",
                f"{full_test:.1f} s",
                ok(full_test <= 120),
            )
        )
        out.append(("make unit <= 30 s", f"{unit:.1f} s", ok(unit <= 30)))
    if big:
        out.append(
            (
                "all tables, all tests, ~95,000 clinics < 20 s and < 2 GB",
                f"{big_s:.1f} s, {big_m:.0f} MB",
                ok(big_s < 20 and big_m < 2048),
            )
        )
    if "scale 1" in sens:
        s1 = float(sens["scale 1"]["median"])
        out.append(
            (
                "sensitivity, 10,000 cluster-bootstrap replicates, 317 clinics < 5 s",
                f"{s1:.1f} s",
                ok(s1 < 5),
            )
        )
    if "scale 300" in sens:
        s3, m3 = float(sens["scale 300"]["median"]), float(sens["scale 300"]["peak_rss_mb"])
        out.append(
            (
                "sensitivity stage, ~95,000 clinics (10,000 replicates) < 20 s and < 2 GB",
                f"{s3:.1f} s, {m3:.0f} MB",
                ok(s3 < 20 and m3 < 2048),
            )
        )
    if ratio_r == ratio_r:
        out.append(
            ("exact Fisher faster than R in aggregate", f"{ratio_r:.2f}x R's time", ok(ratio_r < 1))
        )
    return out


def fmt(v: object) -> str:
    if isinstance(v, float):
        if v != v:
            return ""
        return f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def write_report(
    outdir: Path, args: argparse.Namespace, elapsed: float
) -> list[tuple[str, str, bool | None]]:
    import pandas as pd

    from ccanalysis.io import write_csv, write_text

    frame = pd.DataFrame(ROWS)
    write_csv(frame, outdir / "bench.csv", float_format="%.6g")
    tg = targets()
    mode = "quick" if args.quick else "full"
    md = [
        "# ccanalysis benchmark",
        "",
        f"`make bench` ({mode}; {args.reps} repetitions of the make timings; "
        f"{time.strftime('%Y-%m-%d %H:%M')}; {platform.node()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; total {elapsed / 60:.1f} min; load average at the "
        f"end {os.getloadavg()[0]:.2f}: other processes on the machine inflate the timings).",
        "",
        "Make timings run in a temporary `git clone` of the project: **uncommitted changes are not "
        "in it**. Library stages and Fisher run with the project's interpreter on the working tree. "
        "Each library stage runs in its own process; the time excludes start-up and input reading "
        "(except read/clean and classify, which read and write their files); peak RSS is the "
        "process's (imports and inputs included).",
        "",
        "## Targets",
        "",
        "| target | measured | holds |",
        "|---|---|---|",
        *[
            f"| {t} | {m} | {'yes' if h else ('no' if h is not None else 'n/a')} |"
            for t, m, h in tg
        ],
        "",
        "## Timings (median, min, max)",
        "",
        "| section | what | n | median | min | max | unit | peak RSS MB | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in ROWS:
        md.append(
            "| "
            + " | ".join(
                fmt(r[k])
                for k in (
                    "section",
                    "name",
                    "n",
                    "median",
                    "min",
                    "max",
                    "unit",
                    "peak_rss_mb",
                    "note",
                )
            )
            + " |"
        )
    if FISHER_DETAIL:
        md += [
            "",
            "## Fisher, per table (median seconds)",
            "",
            "| table:item | shape | n | ccanalysis s | test | R s | R default workspace | "
            "SciPy s | SciPy kind | p ccanalysis | p R | p SciPy |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for p in FISHER_DETAIL:
            md.append(
                f"| {p['id']} | {p['shape']} | {p['n']} | {p['cc_s']:.4f} | {p['cc_test']} | "
                f"{p.get('r_s', float('nan')):.4f} | "
                f"{'fails' if p.get('r_default_fail') else 'ok'} | {p['scipy_s']:.4f} | "
                f"{p['scipy_kind']} | {p['cc_p']:.4g} | {p.get('r_p', float('nan')):.4g} | "
                f"{p['scipy_p']:.4g} |"
            )
    write_text(outdir / "bench.md", "\n".join(md) + "\n")
    return tg


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick",
        action="store_true",
        help="1 repetition, scales 1 and 100 only, 200 bootstrap replicates at scale 100",
    )
    ap.add_argument("--reps", type=int, default=None, help="repetitions (default 5; quick 1)")
    ap.add_argument(
        "--skip", default="", help="comma list of sections to skip: make,tests,library,fisher"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "reports")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per library stage")
    ap.add_argument("--mem-limit-gb", type=float, default=8.0, help="address space per stage")
    ap.add_argument("--seed", type=int, default=20240325)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--scale", type=float, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--n-boot", type=int, default=10_000, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.work, args.scale, args.n_boot, args.seed)))
        return 0
    global TIMEOUT, MEM_LIMIT_GB
    TIMEOUT, MEM_LIMIT_GB = args.timeout, args.mem_limit_gb
    args.reps = args.reps or (1 if args.quick else 5)
    skip = set(filter(None, args.skip.split(",")))
    start = time.perf_counter()
    if args.quick:
        scales = [(1, args.reps, 10_000), (100, 1, 10_000)]
    else:
        scales = [(1, args.reps, 10_000), (100, 3, 10_000), (300, 2, 10_000)]
    if "make" not in skip:
        bench_make(args.reps, min(args.reps, 3))
    if "tests" not in skip:
        bench_tests(1 if args.quick else min(args.reps, 2))
    work = None
    if "library" not in skip:
        work = bench_library(scales, args.seed)
    elif "fisher" not in skip:
        work = bench_library([(1, 1, 2000)], args.seed)
    if "fisher" not in skip and work is not None:
        bench_fisher(work, args.seed, 5 if not args.quick else 3)
    if work is not None:
        shutil.rmtree(work, ignore_errors=True)
    tg = write_report(args.out, args, time.perf_counter() - start)
    print("\nBenchmark summary (medians):")
    for r in ROWS:
        if r["section"] in ("make", "floor", "fisher") or "tables (run" in str(r["name"]):
            mem = f", {r['peak_rss_mb']:.0f} MB" if r["peak_rss_mb"] == r["peak_rss_mb"] else ""
            print(f"  {r['section']:<10} {r['name']:<62} {fmt(r['median']):>8} {r['unit']}{mem}")
    print("\nTargets:")
    for t, m, h in tg:
        print(f"  [{'ok' if h else ('--' if h is None else 'NO')}] {t}: {m}")
    print(f"\nWritten: {args.out / 'bench.md'}, {args.out / 'bench.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
