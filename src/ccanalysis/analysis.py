"""Compare any groups, item by item: a composable table API in the spirit of R's gtsummary.

::

    from ccanalysis import analysis as cc

    t = (cc.summarize(clinics, items=["svc_social_needs", "hours_cc_week", "panel_judgement"],
                      by="urban", labels={True: "Urban", False: "Rural"})
           .add_p()           # Fisher's exact r x c; Student's t / one-way ANOVA; others by name
           .add_difference()  # two groups: Newcombe difference in pp / mean difference, 95% CI
           .add_q())          # Benjamini-Hochberg over this table's tests
    t.long                    # the long format of tables/tableN.csv
    t.render("html")          # also "md", "tex", "docx"; t.write(outdir, name) writes them all

``by``: any column of two groups or more; ``items``: analysis items of the data dictionary
(``show=`` picks levels). ``add_q_across(t1, t2, family=...)`` adjusts across tables;
:func:`from_spec` summarizes a table of ``specs/tables.csv``, as the paper's Tables 1-4 are built.
"""

from ccanalysis.tables.paper import from_spec
from ccanalysis.tables.summary import Summary, add_q_across, grouping, item_rows, summarize

__all__ = ["Summary", "add_q_across", "from_spec", "grouping", "item_rows", "summarize"]


def __dir__() -> list[str]:  # dir(cc): the API only, not the modules' imports
    return list(__all__)
