"""End to end: what `make all` leaves behind, and how make rebuilds it (run by `make e2e`)."""

from __future__ import annotations

import re
import subprocess

import pandas as pd
import pytest

from ccanalysis.pipeline import project_root

pytestmark = pytest.mark.e2e
ROOT = project_root()
STAGES = ["00_synthesize", "01_clean", "02_classify", "03_tables", "04_sensitivity", "05_figures", "06_replication"]


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
    assert _would_run("all", "-W", "src/ccanalysis/tables.py") == {"03_tables"}
    assert _would_run("all", "-W", "src/ccanalysis/classify.py") == {"02_classify", "03_tables"}
    assert _would_run("all", "-W", "src/ccanalysis/synth.py") == set(STAGES)


def test_a_parameter_change_reruns_the_pipeline() -> None:
    assert _would_run("all", "SEED=7") == set(STAGES)
