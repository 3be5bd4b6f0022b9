"""The notebook runner: atomic stages, a failure report naming stage, cell and error, a quiet
kernel shutdown (a public ipykernel setting, pinned here so that an upgrade fails loudly)."""

from __future__ import annotations

import json

import nbformat
import pytest

from ccanalysis import pipeline


def _notebook(path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("x = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("None", None),
        ("True", True),
        ("False", False),
        ("11", 11),
        ("0.5", 0.5),
        ("data/raw/x.csv", "data/raw/x.csv"),
        ("20240325", 20240325),
    ],
)
def test_make_variables_become_python_values(text, value) -> None:
    assert pipeline.coerce(text) == value
    assert type(pipeline.coerce(text)) is type(value)


@pytest.mark.slow
def test_a_stage_is_moved_into_place_without_times_and_the_kernel_stops_quietly(
    tmp_path, capfd
) -> None:
    """The executed notebook holds the injected value and no time, duration or random id; two
    runs give the same bytes. jupyter_client interrupts the kernel before it shuts down; the
    kernel's log, quiet below CRITICAL, leaves no "KeyboardInterrupt caught in kernel" line."""
    src, dst = tmp_path / "nb.ipynb", tmp_path / "out" / "nb.ipynb"
    _notebook(src, "print(x * 2)")
    pipeline.run(src, dst, {"x": 21})
    first = dst.read_bytes()
    nb = json.loads(first)
    assert "".join(nb["cells"][-1]["outputs"][0]["text"]) == "42\n"
    assert "start_time" not in nb["metadata"]["papermill"]
    assert all("execution" not in c["metadata"] for c in nb["cells"])
    assert sorted(p.name for p in dst.parent.iterdir()) == ["nb.ipynb"]
    pipeline.run(src, dst, {"x": 21})
    assert dst.read_bytes() == first
    err = capfd.readouterr().err
    assert "KeyboardInterrupt" not in err and "ERROR" not in err and "Traceback" not in err
    assert pipeline.KERNEL_ARGUMENTS == ["--IPKernelApp.log_level=CRITICAL"]


@pytest.mark.slow
def test_a_failing_cell_stops_with_stage_cell_and_error(tmp_path, capsys) -> None:
    src = tmp_path / "03_tables.ipynb"
    dst = tmp_path / "reports" / "03_tables.ipynb"
    _notebook(src, "y = 2", "raise ValueError('bad record C0007')", "print('never')")
    with pytest.raises(SystemExit) as exit_:
        pipeline.run(src, dst, {"x": 2})
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    # parameters cell [1], papermill's injected parameters [2], y = 2 [3], the failing cell [4]
    assert "03_tables: cell In [4] failed: ValueError: bad record C0007" in err
    assert "it begins: raise ValueError" in err
    failed = tmp_path / "reports" / "03_tables.failed.ipynb"
    assert failed.exists() and not dst.exists()
    outputs = [o for c in nbformat.read(failed, as_version=4).cells for o in c.get("outputs", [])]
    assert [o["ename"] for o in outputs if o["output_type"] == "error"] == ["ValueError"]
