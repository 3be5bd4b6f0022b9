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

``by`` is any column (bool, category, text or integer codes) with two groups or more; in
``t.long`` a group is its value as text (``True``, ``small``, ``2``) and ``total`` is every row
with a group; rows without one are left out, and a footnote counts them. Group labels come from
the data dictionary, the study's vocabulary or ``labels={value: label}``; ``reference=`` is the
group the others are compared with (default: the first).

``items`` are analysis items of the data dictionary. A categorical item shows every level and is
tested on its whole answer distribution; ``show={"pt_comm_phone": "always+mostly"}`` prints one
row adding up levels, ``"binary"`` one row (yes), a level one row, a list a row each. A numeric
item is one mean (SD) row. Each step returns a new :class:`Summary`. ``add_p(test)`` takes a test
by name (``chisq``, ``welch_t`` ...) or ``{item: test}``, and tests each printed level of an item
of more than two answers against its other answers (``p_level``: the hypothesis the row's
difference estimates). ``add_difference(group)`` names the group compared with the reference
among three or more. ``add_q_across(t1, t2, family=...)`` adjusts across the tests of several
tables, a pre-specified family. :func:`from_spec` summarizes one table of ``specs/tables.csv``
(by the care models, or by any column with ``by=``): the paper's Tables 1-4 are built this way.
"""

from __future__ import annotations

from ccanalysis.tables.paper import from_spec
from ccanalysis.tables.summary import Summary, add_q_across, grouping, item_rows, summarize

__all__ = ["Summary", "add_q_across", "from_spec", "grouping", "item_rows", "summarize"]
