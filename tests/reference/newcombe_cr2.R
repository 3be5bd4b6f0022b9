# Newcombe's hybrid score interval on design-effect-adjusted counts (stats.clustered.newcombe_cr2)
# for the clustered 0/1 frame of stats.R (9 clusters of 1-8 units), from the published formulas:
# each group's design effect is its proportion's CR2 variance (clubSandwich, lm(y ~ 0 + group):
# the diagonal) over p (1 - p) / n (Rao and Scott 1992); events and units divided by it; Wilson's
# interval of each group (Wilson 1927) at the quantile qt(0.975, df), df the Satterthwaite df of
# the difference (coef_test(lm(y ~ group), vcov = "CR2", test = "Satterthwaite")); combined by
# Newcombe (1998, method 10): L = d - sqrt((p1 - l1)^2 + (u0 - p0)^2),
# U = d + sqrt((u1 - p1)^2 + (p0 - l0)^2). Printed values are in tests/test_stats_clustered.py.
# R 4.2.2, clubSandwich 0.5.8. Run from the project root: Rscript tests/reference/newcombe_cr2.R
library(clubSandwich)
cl <- c(1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 7,
        8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9)
g <- c(0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1,
       1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 0, 1)
y <- c(0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1,
       0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 0)
v <- diag(as.matrix(vcovCR(lm(y ~ 0 + factor(g)), cluster = cl, type = "CR2")))
n <- as.numeric(table(g)); p <- as.numeric(tapply(y, g, mean))
deff <- v / (p * (1 - p) / n)
df <- coef_test(lm(y ~ g), vcov = "CR2", cluster = cl, test = "Satterthwaite")$df_Satt[2]
q <- qt(0.975, df); ne <- n / deff
wilson <- function(p, n) (p + q^2 / (2 * n) + c(-1, 1) * q * sqrt(p * (1 - p) / n + q^2 / (4 * n^2))) /
  (1 + q^2 / n)
w0 <- wilson(p[1], ne[1]); w1 <- wilson(p[2], ne[2]); d <- p[2] - p[1]
out <- c(deff0 = unname(deff[1]), deff1 = unname(deff[2]), df = df, estimate = d,
         ci_low = d - sqrt((p[2] - w1[1])^2 + (w0[2] - p[1])^2),
         ci_high = d + sqrt((w1[2] - p[2])^2 + (p[1] - w0[1])^2))
print(format(out, digits = 15), quote = FALSE)
