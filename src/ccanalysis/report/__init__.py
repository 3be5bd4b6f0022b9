"""The pages of a run: each executed notebook in two editions (:mod:`~ccanalysis.report.notebooks`,
by nbconvert), the landing page from the stages' outputs (:mod:`~ccanalysis.report.landing`) and the
committed snapshot ``docs/``. ``python -m ccanalysis.report`` is what make calls. Nothing here computes a result: the report shows what the stages wrote.
"""
