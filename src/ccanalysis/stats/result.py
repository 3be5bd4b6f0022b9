"""What every test returns, and the exception of an exact test that would take too long."""

from __future__ import annotations

from dataclasses import dataclass

FISHER_NAME = "Fisher's exact test"
FISHER_MC_NAME = "Fisher's exact test (Monte Carlo p-value)"


@dataclass(frozen=True)
class TestResult:
    """Result of a hypothesis test.

    Attributes
    ----------
    test : short id ("fisher", "fisher_mc", "student_t", "welch_t", "anova",
        "welch_anova", "chisq", "chisq_yates").
    name : human-readable name of the test.
    statistic : test statistic (None for Fisher's test).
    df : degrees of freedom (numerator df for F tests), None if not applicable.
    p : p-value.
    n : number of observations used.
    mc_samples, mc_se : number of Monte Carlo tables and the standard error of
        the Monte Carlo p-value (None unless ``test == "fisher_mc"``).
    df2 : denominator degrees of freedom of F tests (None otherwise).
    """

    __test__ = False  # not a pytest test class despite the name

    test: str
    name: str
    statistic: float | None
    df: float | None
    p: float
    n: int
    mc_samples: int | None = None
    mc_se: float | None = None
    df2: float | None = None


class ExactTestBudgetError(RuntimeError):
    """Raised when exact enumeration would exceed the node budget."""
