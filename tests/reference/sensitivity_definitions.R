# Reference p-values of tests/test_sensitivity_definitions.py: Fisher's exact test (R's
# fisher.test, two-sided) on the constructed frame of 20 clinics described in that file's
# docstring. Run: Rscript tests/reference/sensitivity_definitions.R
options(digits = 15)
p <- function(m) fisher.test(m)$p.value
cat("rows of Table 3 (isw yes, isw no, mn yes, mn no):\n")
cat("paper, 8 vs 6 + 6:        ", p(matrix(c(8, 0, 6, 6), 2)), "\n")
cat("sw_on_team, 14 vs 6:      ", p(matrix(c(14, 0, 0, 6), 2)), "\n")
cat("paper, 5/8 vs 6/12:       ", p(matrix(c(5, 3, 6, 6), 2)), "\n")
cat("sw_on_team, 11/14 vs 0/6: ", p(matrix(c(11, 3, 0, 6), 2)), "\n")
cat("panel_judgement under the paper's definition, isw vs mn, each level against the others:\n")
cat("about_right 4/8 vs 5/12:  ", p(matrix(c(4, 4, 5, 7), 2)), "\n")
cat("too_many 4/8 vs 0/12:     ", p(matrix(c(4, 4, 0, 12), 2)), "\n")
cat("too_few 0/8 vs 7/12:      ", p(matrix(c(0, 8, 7, 5), 2)), "\n")
cat("the whole item (3 x 2):   ", p(rbind(c(4, 5), c(4, 0), c(0, 7))), "\n")
