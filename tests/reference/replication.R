# Reference values for tests/test_replication.py (R 4.2, base stats only).
# Run: Rscript tests/reference/replication.R
# Each line prints name = value with 15 significant digits.
out <- function(name, x) cat(sprintf("%s = %.15g\n", name, x))

# A binary row: 30/100 vs 50/100 (the printed 30% and 50% of n = 100 each).
out("fisher_30_100_vs_50_100", fisher.test(matrix(c(30, 70, 50, 50), 2, byrow = TRUE))$p.value)

# A Table 1 row: 3/20 vs 9/20; Fisher, Pearson without and with Yates' correction.
t2 <- matrix(c(3, 17, 9, 11), 2, byrow = TRUE)
out("fisher_3_20_vs_9_20", fisher.test(t2)$p.value)
out("chisq_3_20_vs_9_20", chisq.test(t2, correct = FALSE)$p.value)
out("yates_3_20_vs_9_20", chisq.test(t2, correct = TRUE)$p.value)

# Table 1 'degree' as printed (counts of mn_only, isw_only, both over five degrees): r x c Fisher.
degree <- matrix(c(51, 48, 0, 9, 9, 35, 25, 11, 10, 7, 2, 2, 3, 1, 0), 3, byrow = TRUE)
out("fisher_table1_degree", fisher.test(degree, workspace = 2e7)$p.value)

# Mean (SD) rows from summaries: samples with exactly the printed mean and SD.
with_summary <- function(m, s, n) m + s * as.numeric(scale(seq_len(n)))
x <- with_summary(18.8, 14.7, 178)
y <- with_summary(25.3, 14.1, 139)
out("student_t_18.8_25.3", t.test(x, y, var.equal = TRUE)$p.value)
out("welch_t_18.8_25.3", t.test(x, y, var.equal = FALSE)$p.value)
g <- list(with_summary(4.2, 3.9, 117), with_summary(5.7, 5.0, 88), with_summary(5.2, 2.1, 8))
v <- unlist(g)
f <- factor(rep(seq_along(g), lengths(g)))
out("anova_4.2_5.7_5.2", oneway.test(v ~ f, var.equal = TRUE)$p.value)
out("welch_anova_4.2_5.7_5.2", oneway.test(v ~ f, var.equal = FALSE)$p.value)
