"""Run the notebooks as a pipeline stage by stage (called by the Makefile).

``python -m ccanalysis.pipeline run SRC DST -p name value ...`` executes one notebook with papermill
in the project's own kernel, into a temporary file that is moved into place only on success (papermill
writes its output even when a cell fails, and make would take a failed stage as done). On failure it
prints the notebook, the cell and the error, keeps the partly executed notebook as
``DST.failed.ipynb`` for inspection, and exits non-zero. Each stage's time is appended to the run's
timing file, printed by ``python -m ccanalysis.pipeline times`` at the end of ``make all``.

The executed notebooks are rendered, and ``reports/index.html`` written, by ``ccanalysis.report``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from ccanalysis.paths import project_root

KERNEL = "ccanalysis"
TIMES = Path(".make/last-run.tsv")


def _coerce(value: str) -> object:
    """Parameter text from make to a Python value: None, bool, int, float or the string itself."""
    if value in {"None", ""}:
        return None
    if value in {"True", "False"}:
        return value == "True"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _failure_report(nb_path: Path, stage: str) -> str:
    """The first failed cell of an executed notebook: its number, source head and error.

    Cells are numbered as code cells of the source notebook (papermill's injected parameters cell
    is not counted), so that "cell 4" is the fourth code cell a reader sees in ``notebooks/``.
    """
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    code_cells = [
        c
        for c in nb["cells"]
        if c["cell_type"] == "code"
        and "injected-parameters" not in c.get("metadata", {}).get("tags", [])
    ]
    for i, cell in enumerate(code_cells, start=1):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                src = "".join(cell["source"]).strip().splitlines()
                head = src[0] if src else ""
                return (
                    f"\n*** {stage}: cell {i} failed: {out.get('ename')}: {out.get('evalue')}\n"
                    f"    cell {i} begins: {head}\n"
                )
    return f"\n*** {stage}: the notebook failed outside a cell (see above)\n"


def skip_slow_optional_imports() -> None:
    """Keep jsonschema from importing ``rfc3987_syntax``, which compiles a Lark grammar at import
    (0.9 s of every papermill or nbconvert process here). jsonschema imports it only, and optionally,
    to check the "iri" string format, which the notebook schema nbformat validates against never uses;
    it is installed because jupyterlab's jupyter-events asks for jsonschema[format-nongpl]. The
    renderer of the pages and the tests call it too."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _kernel_config() -> object:
    """Encrypt the kernel's local TCP traffic with CurveZMQ keys made for this run (the venv's
    kernelspec declares support), so that nothing else on the machine can read or drive it;
    ipykernel warns on every start otherwise."""
    import zmq
    from traitlets.config import Config

    return Config(
        {"KernelManager": {"transport_encryption": "auto" if zmq.has("curve") else "disabled"}}
    )


def _kernel_manager() -> type:
    """The kernel manager of a stage: jupyter_client's, without the interrupt at shutdown.

    jupyter_client interrupts a kernel (SIGINT) before asking it to shut down, in case a cell is
    still running. Here no cell is (papermill shuts the kernel down after the last one finished),
    but the kernel may still be finishing its last message; the interrupt then lands inside a
    handler and ipykernel logs ``ERROR | KeyboardInterrupt caught in kernel`` into a successful
    run's output. A timed-out cell is still interrupted: only the shutdown's interrupt is skipped.
    """
    from jupyter_client.manager import AsyncKernelManager

    class ShutdownWithoutInterrupt(AsyncKernelManager):
        async def _async_interrupt_kernel(self) -> None:
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

    return ShutdownWithoutInterrupt


def run(
    src: Path,
    dst: Path,
    params: dict[str, object],
    kernel: str = KERNEL,
    times: Path = TIMES,
) -> float:
    """Execute ``src`` into ``dst`` atomically; return the seconds taken (also appended to ``times``)."""
    skip_slow_optional_imports()
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    root = project_root()
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.stem}.running.ipynb")
    failed = dst.with_name(f"{dst.stem}.failed.ipynb")
    stage = src.stem
    start = time.perf_counter()
    print(f"[{stage}] running {src} -> {dst}", file=sys.stderr, flush=True)
    try:
        pm.execute_notebook(
            str(src),
            str(tmp),
            parameters=params,
            kernel_name=kernel,
            cwd=str(root),
            progress_bar=False,  # whole lines only: make runs stages side by side
            request_save_on_cell_execute=False,
            config=_kernel_config(),
            kernel_manager_class=_kernel_manager(),
        )
    except PapermillExecutionError:
        os.replace(tmp, failed)
        sys.stderr.write(_failure_report(failed, stage))
        sys.stderr.write(f"    the partly executed notebook is kept at {failed}\n")
        raise SystemExit(1) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _strip_volatile(tmp)
    os.replace(tmp, dst)
    failed.unlink(missing_ok=True)
    seconds = time.perf_counter() - start
    times.parent.mkdir(parents=True, exist_ok=True)
    with times.open("a", encoding="utf-8") as fh:
        fh.write(f"{stage}\t{seconds:.1f}\n")
    print(f"[{stage}] done in {seconds:.1f} s", file=sys.stderr, flush=True)
    return seconds


def _strip_volatile(nb_path: Path) -> None:
    """Remove execution timestamps, durations and random cell ids so reruns give identical notebooks."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    pm_meta = nb.get("metadata", {}).get("papermill", {})
    for key in ("start_time", "end_time", "duration", "input_path", "output_path"):
        pm_meta.pop(key, None)
    for cell in nb["cells"]:
        meta = cell.get("metadata", {})
        if "injected-parameters" in meta.get("tags", []):
            cell["id"] = "injected-parameters"  # papermill gives it a random id
        meta.get("papermill", {}).clear()
        meta.pop("execution", None)
    nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def print_times(path: Path = TIMES) -> None:
    """Print the time per stage of this run (and remove the record), or say nothing was run."""
    if not path.exists():
        print("make all: everything is up to date.")
        return
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line]
    total = sum(float(s) for _, s in rows)
    print("\nTime per stage (this run):")
    for stage, s in rows:
        print(f"  {stage:<20} {float(s):6.1f} s")
    print(f"  {'total':<20} {total:6.1f} s")
    path.unlink()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ccanalysis.pipeline")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_run = sub.add_parser("run", help="execute a notebook with papermill")
    p_run.add_argument("src", type=Path)
    p_run.add_argument("dst", type=Path)
    p_run.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    p_run.add_argument("-k", "--kernel", default=KERNEL)
    sub.add_parser("times", help="print the time per stage of this run")
    args = parser.parse_args(argv)
    if args.cmd == "run":
        run(args.src, args.dst, {k: _coerce(v) for k, v in args.p}, args.kernel)
    elif args.cmd == "times":
        print_times()


if __name__ == "__main__":
    main()
