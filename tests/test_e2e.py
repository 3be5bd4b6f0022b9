"""End to end: what `make all` leaves behind, and how make rebuilds it (run by `make e2e`)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from ccanalysis import makedeps
from ccanalysis.paths import DEFAULT_DICTIONARY, DEFAULT_EXPORT, DEFAULT_FRAME, project_root

#: The tests share this checkout's outputs and run one after the other, except the real-export run
#: (marked own_checkout), which works in a copy of its own and runs beside them (`make e2e`) and
#: beside the unit suite and the pipeline's build in `make test`.
pytestmark = pytest.mark.e2e
ROOT = project_root()
STAGES = list(makedeps.STAGES)


#: make as a user runs it: not as a sub-make of `make test` (no inherited flags or jobserver).
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}


def _make(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", *args], cwd=cwd, env=CLEAN_ENV, capture_output=True, text=True, check=False
    )


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


def _loaded_modules(stage: str) -> set[str]:
    """The ccanalysis modules a notebook's imports load when run (an oracle independent of the
    static graph of ccanalysis.makedeps: Python itself says what it imported)."""
    code = makedeps.notebook_code(ROOT / "notebooks" / f"{stage}.ipynb")
    tree = ast.parse(code)
    imports = "\n".join(
        ast.unparse(n) for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)
    )
    probe = imports + (
        "\nimport sys, ccanalysis.pipeline\n"
        "print('\\n'.join(n for n in sys.modules if n.split('.')[0] == 'ccanalysis'))"
    )
    out = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


def test_touching_any_module_reruns_exactly_the_stages_that_import_it() -> None:
    """For every module of the package, `make -n -W module` re-runs the stages that import it
    (directly or through other modules, as Python itself loads them) and the stages after them,
    and nothing else: no stale output, and no needless re-run beyond the static import graph."""
    src = ROOT / "src"
    known = makedeps.modules(src)
    static = makedeps.stage_modules(ROOT)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        loaded = dict(zip(STAGES, pool.map(_loaded_modules, STAGES), strict=True))
    order = {s: i for i, s in enumerate(STAGES)}

    inputs = {
        "export": str(DEFAULT_EXPORT),
        "dictionary": str(DEFAULT_DICTIONARY),
        "frame": str(DEFAULT_FRAME),
    }

    def downstream(stages: set[str]) -> set[str]:
        out = set(stages)
        for s in STAGES:  # in order: a stage after one already due reads its outputs
            if any(u in out for u in makedeps.upstream(s, inputs, STAGES)):
                out.add(s)
        return out

    names = sorted(known)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        runs = pool.map(lambda n: _would_run("all", "-W", str(known[n].relative_to(ROOT))), names)
        would = dict(zip(names, runs, strict=True))
    report = []
    for name in names:
        ran = would[name]
        must = downstream({s for s in STAGES if name in loaded[s]})
        may = downstream({s for s in STAGES if name in static[s]})
        report.append(f"{name}: {sorted(ran, key=order.get)}")
        assert must <= ran <= may, (name, sorted(must), sorted(ran), sorted(may))
    print("\n".join(report))
    # what a reader would expect, stated by hand
    assert _would_run("all", "-W", "src/ccanalysis/makedeps.py") == set()
    assert _would_run("all", "-W", "src/ccanalysis/pipeline.py") == set(STAGES)
    assert _would_run("all", "-W", "src/ccanalysis/specs/tables.csv") >= {"03_tables"}
    assert _would_run("all", "-W", "data/raw/cc_survey_dictionary.csv") == set(STAGES)
    assert _would_run("all", "-W", "data/raw/recruitment_flow.csv") == {"05_figures"}


def test_a_parameter_change_reruns_the_pipeline() -> None:
    assert _would_run("all", "SEED=7") == set(STAGES)


def _sums(text: str) -> dict[str, str]:
    """``sha256sum`` output as file -> digest."""
    return dict(reversed(line.split(maxsplit=1)) for line in text.splitlines() if line)


def _fingerprint() -> dict[str, str]:
    """SHA-256 of every output a rerun must reproduce byte for byte: the outputs as the Makefile
    defines them (``make output-sums``, what ``make test`` records before nbval) and the pages."""
    import hashlib

    sums = _make("-s", "--no-print-directory", "output-sums")
    assert sums.returncode == 0, sums.stderr[-2000:]
    pages = [
        *sorted((ROOT / "reports").glob("[0-9][0-9]_*.ipynb")),
        *sorted((ROOT / "reports").glob("[0-9][0-9]_*.html")),
        ROOT / "reports/index.html",
    ]
    return {
        **_sums(sums.stdout),
        **{
            str(f.relative_to(ROOT)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in pages
            if f.is_file()
        },
    }


def copy_checkout(project: Path) -> Path:
    """The files git tracks (no outputs) in ``project``, sharing this checkout's venv."""
    import shutil

    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for name in files:
        if (ROOT / name).is_file() and not name.startswith(("reports/", "tables/", "figures/")):
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, project / name)  # keeps times: the venv stays up to date
    (project / ".venv").symlink_to(ROOT / ".venv")
    return project


@pytest.fixture(scope="module")
def spaced_checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this checkout in a folder whose path has spaces, as an author's laptop has
    ("Box Sync", "OneDrive - University")."""
    return copy_checkout(tmp_path_factory.mktemp("e2e") / "OneDrive - University" / "my checkout")


def test_reexecuting_every_notebook_rewrites_identical_outputs() -> None:
    """Determinism: `make test` records the SHA-256 of every output (tables, figures, processed
    and synthetic data) before nbval re-executes every notebook, and with it every stage's
    ``run``; the files they write again must come out byte for byte the same."""
    import hashlib

    record = ROOT / ".make" / "outputs-before-nbval.sha256"
    if not record.is_file():
        pytest.skip("no record of the outputs before nbval: run `make test` (it writes one)")
    before = _sums(record.read_text(encoding="utf-8"))
    assert len(before) > 40
    after = {
        name: hashlib.sha256((ROOT / name).read_bytes()).hexdigest()
        for name in before
        if (ROOT / name).is_file()
    }
    assert set(after) == set(before)
    moved = sorted(k for k in before if before[k] != after[k])
    assert not moved, f"outputs differ after the notebooks ran again: {moved}"


def test_a_run_killed_in_a_stage_leaves_outputs_intact_and_recovers() -> None:
    """Kill make as soon as it says 06_replication runs (a stage that writes several files): every
    output stays whole, the stage's own included; the next run finishes and leaves the same bytes."""
    import signal

    before = _fingerprint()
    os.utime(ROOT / "notebooks/06_replication.ipynb")  # 06_replication and the pages are now due
    proc = subprocess.Popen(
        ["make", "all"],
        cwd=ROOT,
        env=CLEAN_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    log = []
    for line in proc.stdout:  # the event itself: the runner's line, read as make writes it
        log.append(line)
        if line.startswith("[06_replication] running"):
            break
    assert proc.poll() is None, "".join(log)[-2000:]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    after_kill = _fingerprint()
    assert after_kill == before, "a killed run changed or removed a finished output"
    rerun = _make("all")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert _fingerprint() == before
    assert _would_run("all") == set()


def test_a_dry_run_writes_nothing_and_make_warns_of_nothing() -> None:
    """`make -n` (here with a new parameter, which a real run records in .make/params) leaves
    every file of the checkout as it was; neither it nor the recursive makes of `make -n test`
    print a warning (jobserver, -j forced in a sub-make)."""

    def files() -> dict[str, int]:
        skip = {".venv", ".git", "__pycache__"}
        return {
            str(p): p.stat().st_mtime_ns
            for p in ROOT.rglob("*")
            if not skip & set(p.relative_to(ROOT).parts) and p.is_file()
        }

    before = files()
    dry = _make("-n", "all", "SEED=7")
    assert dry.returncode == 0 and dry.stderr == "", dry.stderr
    assert files() == before
    test = _make("-n", "test")
    assert test.returncode == 0, test.stderr[-2000:]
    assert "warning" not in test.stderr.lower() and "jobserver" not in test.stderr, test.stderr


@pytest.mark.own_checkout
def test_a_real_export_in_a_path_with_spaces_runs_in_privacy_mode(spaced_checkout: Path) -> None:
    """`make all DATA=redcap` on an export kept outside the project, in folders whose names hold
    spaces, parentheses and # (here: the synthetic export, copied as if it were real), from a
    checkout whose path has spaces: 01-06 run with privacy on, no synthetic label, small cells
    suppressed, no record or coordinator id in what can be shared, nothing under data/raw touched;
    a missing export stops with make's error naming the variable and the path."""
    import shutil

    project = spaced_checkout
    real = project.parent / "Box Sync" / "survey (final) #2"
    real.mkdir(parents=True)
    export, frame = real / "CareCoordination export.csv", real / "clinic frame.csv"
    shutil.copy(ROOT / "data/raw/synthetic/cc_survey_export.csv", export)
    shutil.copy(ROOT / "data/raw/synthetic/clinic_frame.csv", frame)
    raw_before = {p: p.read_bytes() for p in (project / "data/raw").rglob("*") if p.is_file()}

    # one stage at a time: in `make test` this run is one job beside the others
    run = _make("-j1", "all", "DATA=redcap", f"EXPORT={export}", f"FRAME={frame}", cwd=project)
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
    assert not list((project / "reports").glob("00_synthesize.*")), "a synthetic page was left"
    assert "&lt;11" in (project / "tables/table1.html").read_text(encoding="utf-8")
    assert "<11" in (project / "tables/table1.md").read_text(encoding="utf-8")
    assert {
        p: p.read_bytes() for p in (project / "data/raw").rglob("*") if p.is_file()
    } == raw_before

    # an input make cannot name (spaces, #) makes its stages due when it is newer than them
    os.utime(export)
    due = _make("-n", "all", "DATA=redcap", f"EXPORT={export}", f"FRAME={frame}", cwd=project)
    assert "notebooks/01_clean.ipynb" in due.stdout
    missing = _make(
        "all", "DATA=redcap", f"EXPORT={real / 'nope.csv'}", f"FRAME={frame}", cwd=project
    )
    assert missing.returncode != 0
    assert f"EXPORT: no such file: '{real / 'nope.csv'}'" in missing.stderr


def test_make_lab_serves_the_notebooks_on_the_project_kernel() -> None:
    """`make lab` on a machine without a screen prints the URL; the server it starts offers the
    project's kernel as the default and shows the pipeline's notebooks."""
    import json
    import signal
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in CLEAN_ENV.items() if k not in {"DISPLAY", "WAYLAND_DISPLAY"}}
    proc = subprocess.Popen(
        ["make", "lab", f"LAB_PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        lines = iter(proc.stdout.readline, "")  # ends when make lab stops
        url = next(
            (
                m[1]
                for ln in lines
                if (m := re.search(rf"(http://127\.0\.0\.1:{port}/lab\?token=\w+)", ln))
            ),
            None,
        )
        assert url, "make lab printed no URL"
        token = url.rsplit("=", 1)[1]
        # The server binds its port in its event loop, once it has printed the URLs: the first
        # line logged after the "copy and paste one of these URLs" block comes from that loop.
        assert any("copy and paste one of these URLs" in ln for ln in lines), "no URL block"
        assert any(ln.startswith("[") for ln in lines), "the server logged nothing after its URLs"

        def get(path: str) -> dict:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}?token={token}") as r:
                return json.load(r)

        assert get("/api/kernelspecs")["default"] == "ccanalysis"
        names = {c["name"] for c in get("/api/contents/notebooks")["content"]}
        assert {f"{s}.ipynb" for s in STAGES} <= names
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
