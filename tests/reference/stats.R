# Reference values for tests/test_stats.py and tests/test_stats_clustered.py.
# Run from the repository root: Rscript tests/reference/stats.R
# Writes tests/reference/stats_results.csv (name, value; printed with 15 significant digits).
suppressPackageStartupMessages(library(clubSandwich))
out <- list()
put <- function(name, value) out[[name]] <<- value
byrow <- function(...) do.call(rbind, list(...))

# Fisher's exact test (2 x 2 and r x c); R's tables written row by row
fisher <- list(
  TeaTasting = byrow(c(3, 1), c(1, 3)),
  Convictions = byrow(c(2, 15), c(10, 3)),
  Job = byrow(c(1, 3, 10, 6), c(2, 3, 10, 7), c(1, 6, 14, 12), c(0, 1, 9, 11)),
  `2x2_317` = byrow(c(120, 58), c(80, 59)),
  `2x2_small` = byrow(c(0, 5), c(6, 1)),
  `2x3_317` = byrow(c(90, 60, 28), c(55, 50, 34)),
  `2x3_zeros` = byrow(c(170, 6, 2), c(125, 10, 4)),
  `2x4_317` = byrow(c(40, 60, 50, 28), c(25, 45, 40, 29)),
  `2x5_317a` = byrow(c(20, 35, 50, 45, 28), c(10, 25, 40, 34, 30)),
  `2x5_317b` = byrow(c(5, 12, 40, 70, 51), c(8, 20, 35, 45, 31)),
  `2x5_317c` = byrow(c(2, 8, 30, 80, 58), c(12, 25, 40, 40, 22)),
  `2x5_sym` = byrow(c(10, 20, 30, 20, 10), c(10, 20, 30, 20, 10)),
  `3x3` = byrow(c(20, 15, 5), c(10, 25, 12), c(4, 9, 30)),
  `3x3_sparse` = byrow(c(3, 0, 1), c(1, 4, 0), c(0, 1, 5)),
  `3x4` = byrow(c(8, 12, 5, 3), c(6, 9, 10, 7), c(2, 5, 11, 14)),
  `2x5_317_ws1` = byrow(c(33, 21, 41, 35, 48), c(22, 10, 48, 51, 8)),
  `3x3_317_ws1` = byrow(c(24, 21, 81), c(56, 34, 30), c(1, 67, 3)),
  `3x3_213_ws` = byrow(c(29, 22, 28), c(0, 31, 15), c(43, 15, 30)),
  # a near tie: R's rule (1 + 1e-7) counts a table that scipy's (1 + 1e-14) leaves out
  nearTie = byrow(c(20, 38), c(40, 106)),
  # Table 1's degree by group: R's default workspace fails (FEXACT error 7)
  BIG = byrow(c(51, 35, 2), c(48, 25, 2), c(0, 11, 3), c(9, 10, 1), c(9, 7, 0))
)
for (nm in names(fisher)) put(paste0("fisher_", nm), fisher.test(fisher[[nm]], workspace = 2e7)$p.value)

# t tests and one-way ANOVA on R's own data sets
x <- sleep$extra[sleep$group == 1]; y <- sleep$extra[sleep$group == 2]
for (ev in c(TRUE, FALSE)) {
  tt <- t.test(x, y, var.equal = ev)
  k <- if (ev) "student" else "welch"
  put(paste0(k, "_t"), tt$statistic); put(paste0(k, "_df"), tt$parameter)
  put(paste0(k, "_p"), tt$p.value)
  put(paste0(k, "_lo"), tt$conf.int[1]); put(paste0(k, "_hi"), tt$conf.int[2])
  ow <- oneway.test(weight ~ group, PlantGrowth, var.equal = ev)
  k <- if (ev) "anova" else "welch_anova"
  put(paste0(k, "_F"), ow$statistic); put(paste0(k, "_df2"), ow$parameter[2])
  put(paste0(k, "_p"), ow$p.value)
}

# Pearson's chi-squared test (?chisq.test's example) and Yates on a 2 x 2
M <- byrow(c(762, 327, 468), c(484, 239, 477))
put("chisq_stat", chisq.test(M, correct = FALSE)$statistic)
put("chisq_p", chisq.test(M, correct = FALSE)$p.value)
Y2 <- byrow(c(12, 7), c(5, 7))
put("yates_stat", chisq.test(Y2)$statistic); put("yates_p", chisq.test(Y2)$p.value)
put("plain2x2_p", chisq.test(Y2, correct = FALSE)$p.value)

# Benjamini-Hochberg
q <- p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05, 0.5, 0.001, 0.9, 0.049), "BH")
for (i in seq_along(q)) put(sprintf("bh_%d", i), q[i])
q <- p.adjust(c(0.01, NA, 0.04, 0.03, NA, 0.2), "BH")
for (i in seq_along(q)) put(sprintf("bh_na_%d", i), q[i])

# Newcombe (1998) method 10: Wilson intervals combined, no continuity correction
wilson <- function(k, n, z) {
  p <- k / n; d <- 1 + z^2 / n
  c <- (p + z^2 / (2 * n)) / d; h <- z * sqrt(p * (1 - p) / n + z^2 / (4 * n^2)) / d
  c(max(0, c - h), min(1, c + h))
}
newcombe <- function(k1, n1, k2, n2, conf = 0.95) {
  z <- qnorm(1 - (1 - conf) / 2); p1 <- k1 / n1; p2 <- k2 / n2
  a <- wilson(k1, n1, z); b <- wilson(k2, n2, z); d <- p1 - p2
  c(d - sqrt((p1 - a[1])^2 + (b[2] - p2)^2), d + sqrt((a[2] - p1)^2 + (p2 - b[1])^2))
}
cases <- list(c(56, 70, 48, 80), c(9, 10, 3, 10), c(6, 7, 2, 7), c(5, 56, 0, 29),
              c(0, 10, 0, 20), c(10, 10, 0, 20))
for (i in seq_along(cases)) {
  ci <- do.call(newcombe, as.list(cases[[i]]))
  put(sprintf("newcombe_%d_lo", i), ci[1]); put(sprintf("newcombe_%d_hi", i), ci[2])
}

# GEE, independence working correlation, Mancl-DeRouen: the difference of the group means
# (lm) with clubSandwich's CR3 (the Mancl-DeRouen / jackknife-type correction, (I - H_i)^-1)
cl <- c(1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 7,
        8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9)
g <- c(0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1,
       1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 0, 1)
yy <- c(0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1,
        0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 0)
zz <- c(12, 30, 25, 8, 15, 40, 22, 35, 28, 31, 10, 14, 26, 9, 33, 18, 21, 12, 16, 29,
        24, 38, 27, 11, 30, 36, 13, 25, 32, 28, 17, 26, 19, 34)
for (v in c("y", "z")) {
  fit <- lm(if (v == "y") yy ~ g else zz ~ g)
  V <- vcovCR(fit, cluster = cl, type = "CR3")
  put(paste0("gee_", v, "_diff"), coef(fit)[2]); put(paste0("gee_", v, "_se"), sqrt(V[2, 2]))
}

res <- data.frame(name = names(out), value = sapply(out, function(v) format(unname(v), digits = 15)))
write.csv(res, "tests/reference/stats_results.csv", row.names = FALSE, quote = FALSE)
