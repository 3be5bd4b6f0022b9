# Reference values of tests/test_tables.py and tests/test_analysis.py (R 4.2.2, base R only).
options(warn = -1)  # the chi-squared approximation warnings of small tables
# Run: Rscript tests/reference/tables.R   -- prints one "name value" line per reference value.
# The frames are the tests' hand-made ones: hand_clinics() / hand_coordinators() of
# test_tables.py, small_clinics() of test_analysis.py (their docstrings give the counts).

out <- function(name, x) cat(sprintf("%s %s\n", name, paste(sprintf("%.17g", x), collapse = " ")))

# Newcombe's hybrid score interval (Newcombe 1998, method 10) from R's Wilson intervals
newcombe <- function(k1, n1, k2, n2) {
  w1 <- prop.test(k1, n1, correct = FALSE)$conf.int
  w2 <- prop.test(k2, n2, correct = FALSE)$conf.int
  p1 <- k1 / n1; p2 <- k2 / n2; d <- p1 - p2
  100 * c(d, d - sqrt((p1 - w1[1])^2 + (w2[2] - p2)^2), d + sqrt((w1[2] - p1)^2 + (p2 - w2[1])^2))
}

## test_tables.py: hand_clinics (mn: C1-C4, isw: C5-C8) ---------------------------------------
mn_hours <- c(10, 20, 30); isw_hours <- c(20, 30, 40, 50)
out("hand_hours_student_p", t.test(isw_hours, mn_hours, var.equal = TRUE)$p.value)
out("hand_hours_welch_p", t.test(isw_hours, mn_hours, var.equal = FALSE)$p.value)
out("hand_hours_diff_ci", t.test(isw_hours, mn_hours, var.equal = TRUE)$conf.int)
# pt_comm_phone, rows always, mostly, sometimes, never (rarely: nobody), columns mn, isw
out("hand_phone_fisher_p", fisher.test(matrix(c(1, 1, 1, 1, 2, 1, 0, 0), ncol = 2))$p.value)
# the collapsed 2 x 2 (always or mostly: 2/4 vs 3/3), which the row's P must not be
out("hand_phone_collapsed_p", fisher.test(matrix(c(2, 2, 3, 0), ncol = 2))$p.value)
# panel_judgement: about right, too many, too few
out("hand_panel_fisher_p", fisher.test(matrix(c(2, 0, 1, 1, 2, 1), ncol = 2))$p.value)
# svc_social_needs: yes, no
out("hand_social_fisher_p", fisher.test(matrix(c(1, 3, 3, 1), ncol = 2))$p.value)
out("hand_social_chisq_p", chisq.test(matrix(c(1, 3, 3, 1), ncol = 2), correct = FALSE)$p.value)
out("hand_social_newcombe", newcombe(3, 4, 1, 4))

## test_tables.py: hand_coordinators (mn_only K1-K3, isw_only K4-K5, both K6-K7) -----------------
# degree: rn, msn_bsn, msw_bsw, other_none (lpn_cma: nobody)
out("hand_degree_fisher_p", fisher.test(matrix(c(2, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 1), ncol = 3))$p.value)
out("hand_certified_fisher_p", fisher.test(matrix(c(1, 1, 1, 1, 1, 0), nrow = 2))$p.value)
years <- c(1, 2, 3, 5, 7, 4); g <- factor(c(1, 1, 1, 2, 2, 3))
out("hand_years_anova_p", anova(lm(years ~ g))[["Pr(>F)"]][1])  # one answer in "both"

## test_analysis.py: small_clinics by urban (the clinic of unknown urbanity left out) ----------
urban <- c(10, 20, 25, 30, 35, 40, 22); rural <- c(8, 12, 15, 30, 18, 9)
out("urban_hours_sd", c(sd(urban), sd(rural)))
out("urban_social_fisher_p", fisher.test(matrix(c(6, 1, 2, 4), nrow = 2))$p.value)
out("urban_panel_fisher_p", fisher.test(matrix(c(3, 3, 1, 2, 1, 3), nrow = 3))$p.value)
out("urban_hours_student_p", t.test(urban, rural, var.equal = TRUE)$p.value)
out("urban_hours_student_ci", t.test(urban, rural, var.equal = TRUE)$conf.int)
out("urban_hours_welch_p", t.test(urban, rural, var.equal = FALSE)$p.value)
out("urban_hours_welch_ci", t.test(urban, rural, var.equal = FALSE)$conf.int)
p_urban <- c(fisher.test(matrix(c(6, 1, 2, 4), nrow = 2))$p.value,
             t.test(urban, rural, var.equal = TRUE)$p.value,
             fisher.test(matrix(c(3, 3, 1, 2, 1, 3), nrow = 3))$p.value)
out("urban_q", p.adjust(p_urban, method = "BH"))
out("urban_social_newcombe", newcombe(6, 7, 2, 6))
out("urban_about_right_newcombe", newcombe(3, 7, 2, 6))
out("urban_too_few_newcombe", newcombe(1, 7, 3, 6))
# a level against the other answers (P (row))
out("urban_too_few_level_p", fisher.test(matrix(c(1, 6, 3, 3), nrow = 2))$p.value)
out("urban_about_right_level_p", fisher.test(matrix(c(3, 4, 2, 4), nrow = 2))$p.value)
out("urban_about_right_or_too_many_level_p", fisher.test(matrix(c(6, 1, 3, 3), nrow = 2))$p.value)

## test_analysis.py: small_clinics by system size (small, medium, large) ------------------------
out("size_social_fisher_p", fisher.test(matrix(c(3, 1, 3, 2, 3, 2), nrow = 2))$p.value)
out("size_panel_fisher_p", fisher.test(matrix(c(2, 0, 2, 3, 1, 1, 1, 3, 1), nrow = 3))$p.value)
h <- c(10, 40, 8, 18, 20, 35, 12, 30, 50, 25, 30, 22, 15, 9)
s <- factor(rep(c("small", "medium", "large"), c(4, 5, 5)))
out("size_hours_anova_p", oneway.test(h ~ s, var.equal = TRUE)$p.value)
out("size_hours_welch_anova_p", oneway.test(h ~ s, var.equal = FALSE)$p.value)
out("size_too_many_level_p", fisher.test(matrix(c(0, 4, 1, 4, 3, 2), nrow = 2))$p.value)
# beside the difference large - small: the 2 x 2 of those two groups
out("size_too_many_large_small_p", fisher.test(matrix(c(3, 2, 0, 4), nrow = 2))$p.value)
out("size_about_right_large_small_p", fisher.test(matrix(c(1, 4, 2, 2), nrow = 2))$p.value)
p_size <- c(fisher.test(matrix(c(3, 1, 3, 2, 3, 2), nrow = 2))$p.value,
            oneway.test(h ~ s, var.equal = TRUE)$p.value,
            fisher.test(matrix(c(2, 0, 2, 3, 1, 1, 1, 3, 1), nrow = 3))$p.value)
out("family_q", p.adjust(c(p_urban, p_size), method = "BH"))
