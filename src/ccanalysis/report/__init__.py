"""The reviewer's edition: the landing page, the notebooks' renderings, the committed snapshot.

* :mod:`~ccanalysis.report.notebooks`: each executed notebook as a reader's edition (no code) and
  an edition with code, self-contained, with a run card (:mod:`~ccanalysis.report.runcard`);
* :mod:`~ccanalysis.report.landing`: ``reports/index.html``, the study's supplement page, from the
  pipeline's outputs (read by :mod:`~ccanalysis.report.outputs`);
* :mod:`~ccanalysis.report.site`: ``docs/``, the committed reader's edition of the synthetic run.

``python -m ccanalysis.report`` is the command line the Makefile calls. Nothing here computes a
result: the report shows what the stages wrote.
"""
