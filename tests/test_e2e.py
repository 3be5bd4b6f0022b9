"""End to end: what `make all` leaves behind, and how make rebuilds it (run by `make e2e`)."""

from __future__ import annotations

import re
import subprocess

import pandas as pd
import pytest

from ccanalysis.paths import project_root

pytestmark = pytest.mark.e2e
ROOT = project_root()
STAGES = [
    "00_synthesize",
    "01_clean",
    "02_classify",
    "03_tables",
    "04_sensitivity",
    "05_figures",
    "06_replication",
]


def _make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def _would_run(*args: str) -> set[str]:
    """The notebooks `make -n` would execute."""
    out = _make("-n", *args).stdout
    return set(re.findall(r"ccanalysis\.pipeline run notebooks/(\w+)\.ipynb", out))


def test_processed_clinics_follow_the_design_interface() -> None:
    clinics = pd.read_parquet(ROOT / "data/processed/clinics.parquet")
    needed = {"clinic_id", "coordinator_id", "care_system_id", "care_model", "urban", "system_size"}
    assert needed <= set(clinics.columns)
    assert clinics["clinic_id"].is_unique
    assert set(clinics["care_model"].astype(str)) == {"medical_nursing", "integrated_sw"}
    coordinators = pd.read_parquet(ROOT / "data/processed/coordinators.parquet")
    assert set(coordinators["coordinator_id"]) == set(clinics["coordinator_id"])


def test_every_stage_is_executed_and_rendered_and_indexed() -> None:
    index = (ROOT / "reports/index.html").read_text()
    for stage in STAGES:
        assert (ROOT / f"reports/{stage}.ipynb").is_file()
        assert (ROOT / f"reports/{stage}.html").is_file()
        assert f'href="{stage}.html"' in index
    for table in ("table1", "table2", "table3", "table4"):
        for ext in ("csv", "html", "md", "tex", "docx"):
            assert f'href="../tables/{table}.{ext}"' in index
    assert not list((ROOT / "reports").glob("*.failed.ipynb"))


def test_tables_have_the_long_format_and_say_synthetic() -> None:
    for table in ("table1", "table2", "table3", "table4"):
        frame = pd.read_csv(ROOT / f"tables/{table}.csv", keep_default_na=False)
        assert list(frame.columns[:6]) == ["table", "item", "level", "group", "measure", "value"]
        assert set(frame["measure"]) <= {"n", "denom", "pct", "mean", "sd", "p"}
        assert "SYNTHETIC" in (ROOT / f"tables/{table}.md").read_text()
    assert "SYNTHETIC DATA" in (ROOT / "reports/index.html").read_text()
    for stage in STAGES:
        assert "SYNTHETIC DATA" in (ROOT / f"reports/{stage}.html").read_text()


def test_second_make_all_does_nothing() -> None:
    assert _would_run("all") == set()
    assert _make("-q", "reports/index.html").returncode == 0


def test_touching_a_module_reruns_only_the_notebooks_that_use_it() -> None:
    """A module re-runs its own notebooks and those reading their outputs, nothing upstream."""
    assert _would_run("all", "-W", "src/ccanalysis/figures.py") == {"05_figures"}
    assert _would_run("all", "-W", "src/ccanalysis/replication.py") == {"06_replication"}
    assert _would_run("all", "-W", "src/ccanalysis/sensitivity/__init__.py") == {
        "04_sensitivity",
        "05_figures",
    }
    assert _would_run("all", "-W", "src/ccanalysis/tables.py") == {
        "03_tables",
        "05_figures",
        "06_replication",
    }
    assert _would_run("all", "-W", "src/ccanalysis/classify.py") == set(STAGES) - {
        "00_synthesize",
        "01_clean",
    }
    assert _would_run("all", "-W", "src/ccanalysis/synth.py") == set(STAGES)


def test_a_parameter_change_reruns_the_pipeline() -> None:
    assert _would_run("all", "SEED=7") == set(STAGES)


def _fingerprint() -> dict[str, str]:
    """SHA-256 of every output a rerun must reproduce byte for byte."""
    import hashlib

    files = [
        *sorted((ROOT / "tables").glob("*")),
        *sorted((ROOT / "data/processed").glob("*")),
        *sorted((ROOT / "figures").glob("*")),
        *sorted((ROOT / "reports").glob("[0-9][0-9]_*.ipynb")),
        *sorted((ROOT / "reports").glob("[0-9][0-9]_*.html")),
        ROOT / "reports/index.html",
        *sorted((ROOT / "data/raw/synthetic").glob("*")),
    ]
    return {
        str(f.relative_to(ROOT)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in files
        if f.is_file() and not f.name.startswith(".")
    }


def test_two_runs_from_clean_are_byte_identical() -> None:
    """Determinism: tables, processed data, figures and executed notebooks do not move by accident."""
    before = _fingerprint()
    assert len(before) > 40
    assert _make("clean").returncode == 0
    rerun = _make("all")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    after = _fingerprint()
    assert set(after) == set(before)
    moved = sorted(k for k in before if before[k] != after[k])
    assert not moved, f"outputs differ between two runs from clean: {moved}"


def test_a_run_killed_in_03_tables_leaves_outputs_intact_and_recovers() -> None:
    """Kill make while 03_tables executes: earlier outputs stay whole; the next run finishes."""
    import os
    import signal
    import time

    before = _fingerprint()
    os.utime(ROOT / "src/ccanalysis/tables.py")  # 03_tables and what follows it are now due
    log = ROOT / ".make/kill-test.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["make", "all"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 120
    while "[03_tables] running" not in log.read_text() and time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-2000:]
        time.sleep(0.05)
    assert "[03_tables] running" in log.read_text(), "03_tables never started"
    time.sleep(1.5)  # the kernel has started (~0.8 s) and is inside the notebook's cells
    assert proc.poll() is None, "make finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    after_kill = _fingerprint()
    assert after_kill == before, "a killed run changed or removed a finished output"
    rerun = _make("all")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert _fingerprint() == before
    assert _would_run("all") == set()


def test_a_real_export_runs_in_privacy_mode(tmp_path) -> None:  # noqa: ANN001
    """`make all DATA=redcap` on an export kept outside the project (here: the synthetic one, copied
    as if it were real) runs 01-06 with privacy on: no synthetic label, small cells suppressed, no
    record or coordinator id in what can be shared, and nothing under data/raw touched."""
    import shutil

    project = tmp_path / "project"
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, project / name)  # keeps times: the venv stays up to date
    (project / ".venv").symlink_to(ROOT / ".venv")
    real = tmp_path / "confidential"
    real.mkdir()
    export, frame = real / "export.csv", real / "frame.csv"
    shutil.copy(ROOT / "data/raw/synthetic/cc_survey_export.csv", export)
    shutil.copy(ROOT / "data/raw/synthetic/clinic_frame.csv", frame)
    raw_before = {p: p.read_bytes() for p in (project / "data/raw").rglob("*") if p.is_file()}

    run = subprocess.run(
        ["make", "all", "DATA=redcap", f"EXPORT={export}", f"FRAME={frame}"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    log = run.stdout + run.stderr
    assert "00_synthesize" not in re.findall(r"\[(\w+)\] done", log)
    assert set(re.findall(r"\[(\w+)\] done", log)) == set(STAGES) - {"00_synthesize"}
    assert "privacy check passed" in log

    shared = [
        p
        for d in ("reports", "tables", "figures")
        for p in (project / d).rglob("*")
        if p.is_file() and p.suffix in {".html", ".md", ".csv", ".tex", ".ipynb"}
    ]
    assert len(shared) > 20
    assert not [p.name for p in shared if "SYNTHETIC" in p.read_text(encoding="utf-8")]
    assert "&lt;11" in (project / "tables/table1.html").read_text(encoding="utf-8")
    assert "<11" in (project / "tables/table1.md").read_text(encoding="utf-8")
    assert {
        p: p.read_bytes() for p in (project / "data/raw").rglob("*") if p.is_file()
    } == raw_before
