"""The notebook runner: atomic stages, a failure report naming notebook and cell, a quiet kernel
shutdown. (The index page and the HTML renderings moved to ``ccanalysis.report``: test_report.py.)"""

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
    assert pipeline._coerce(text) == value
    assert type(pipeline._coerce(text)) is type(value)


@pytest.mark.slow
def test_successful_stage_is_moved_into_place_without_timings(tmp_path) -> None:
    src, dst, times = tmp_path / "nb.ipynb", tmp_path / "out" / "nb.ipynb", tmp_path / "t.tsv"
    _notebook(src, "print(x * 2)")
    pipeline.run(src, dst, {"x": 21}, times=times)
    nb = json.loads(dst.read_text())
    assert "".join(nb["cells"][-1]["outputs"][0]["text"]) == "42\n"
    assert "start_time" not in nb["metadata"]["papermill"]
    assert all("execution" not in c["metadata"] for c in nb["cells"])
    assert times.read_text().startswith("nb\t")
    assert sorted(p.name for p in dst.parent.iterdir()) == ["nb.ipynb"]


@pytest.mark.slow
def test_failing_cell_stops_with_notebook_cell_and_error(tmp_path, capsys) -> None:
    src, dst = tmp_path / "03_tables.ipynb", tmp_path / "03_tables.ipynb.out"
    dst = tmp_path / "reports" / "03_tables.ipynb"
    _notebook(src, "y = 2", "raise ValueError('bad record C0007')", "print('never')")
    with pytest.raises(SystemExit) as exit_:
        pipeline.run(src, dst, {}, times=tmp_path / "t.tsv")
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "03_tables: cell 3 failed: ValueError: bad record C0007" in err
    assert "raise ValueError" in err
    failed = tmp_path / "reports" / "03_tables.failed.ipynb"
    assert failed.exists() and not dst.exists()
    assert not (tmp_path / "t.tsv").exists()


def test_times_are_printed_once(tmp_path, capsys) -> None:
    times = tmp_path / "t.tsv"
    times.write_text("01_clean\t1.5\n03_tables\t2.0\n")
    pipeline.print_times(times)
    out = capsys.readouterr().out
    assert "01_clean" in out and "3.5 s" in out
    assert not times.exists()
    pipeline.print_times(times)
    assert "up to date" in capsys.readouterr().out


@pytest.mark.slow
def test_a_finished_notebook_kernel_is_shut_down_without_an_interrupt(tmp_path, capfd) -> None:
    """jupyter_client sends SIGINT before every shutdown; arriving while the kernel finishes its
    last message it printed "ERROR | KeyboardInterrupt caught in kernel" into a successful run.
    The cell records any SIGINT the idle kernel gets (ipykernel restores ``saved_sigint_handler``
    after each message); one that lands inside a message is the logged error itself. With the stock
    manager one of the two appears, with the pipeline's neither does.
    """
    from jupyter_client.manager import AsyncKernelManager

    marker = tmp_path / "interrupted"
    src = tmp_path / "nb.ipynb"
    _notebook(
        src,
        "def _record(*_):\n"
        f"    open({str(marker)!r}, 'w').write('SIGINT')\n"
        "get_ipython().kernel.saved_sigint_handler = _record",
    )
    pipeline.run(src, tmp_path / "out.ipynb", {}, times=tmp_path / "t.tsv")
    err = capfd.readouterr().err
    assert not marker.exists()
    assert "KeyboardInterrupt" not in err and "ERROR" not in err and "Traceback" not in err

    stock = pipeline._kernel_manager
    try:
        pipeline._kernel_manager = lambda: AsyncKernelManager
        pipeline.run(src, tmp_path / "out.ipynb", {}, times=tmp_path / "t.tsv")
    finally:
        pipeline._kernel_manager = stock
    # the checks above can see an interrupt
    assert marker.exists() or "KeyboardInterrupt caught in kernel" in capfd.readouterr().err
