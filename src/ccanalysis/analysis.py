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

``by`` is any column of the frame (bool, category, text or integer codes) with two groups or more;
in ``t.long`` a group is the column's value as text (``True``, ``small``, ``2``) and ``total`` is
every row with a group. Rows with a missing ``by`` value are left out and a footnote counts them.
Group labels come from the data dictionary (a categorical item's choice labels), from the study's
vocabulary, or from ``labels={value: label}``; ``reference=`` chooses the group the others are
compared with (default: the first).

``items`` are analysis items of the data dictionary, which gives their levels and type. A
categorical item shows every level and is tested on its whole answer distribution; the table
specification's display rules are options: ``show={"pt_comm_phone": "always+mostly"}`` (one row
adding up levels), ``"binary"`` (one row, yes), a level (one row) or a list of them (a row each).
A numeric item is one mean (SD) row.

Each step returns a new :class:`Summary` (immutable). ``add_p(test)`` takes a test by name
(``chisq``, ``welch_t`` ...) or ``{item: test}``; it also tests each printed level of an item with
more than two answers against the other answers (``p_level``: the hypothesis the row's difference
estimates, where ``p`` tests the whole distribution). ``add_difference(group)`` names the group
compared with the reference when there are three or more. ``add_q_across(t1, t2, family=...)``
adjusts across the tests of several tables at once, a pre-specified family. ``footnote(items,
text)`` marks rows. ``synthetic=True`` prints the synthetic-data label on the rendered table.

The paper's Tables 1-4 are built by the same code: :func:`from_spec` summarizes one table of
``specs/tables.csv`` (by the care models, or by any other column with ``by=``).
"""

from __future__ import annotations

from ccanalysis.tables.paper import from_spec
from ccanalysis.tables.summary import Summary, add_q_across, grouping, item_rows, summarize

__all__ = ["Summary", "add_q_across", "from_spec", "grouping", "item_rows", "summarize"]
