# Every row of Tables 3 and 4 of the synthetic run, clustered by care system: the primary analysis
# of the 04 stage (GEE, independence working correlation = the crude difference of group means)
# computed as the linear model y ~ group with clubSandwich's CR3 covariance (Mancl-DeRouen) and a
# t reference with K - 2 degrees of freedom (K = care systems with an answer to the row).
# Input: gee_rows_input.csv (tests/reference/gee_rows_input.py); output: gee_rows_results.csv.
# The same rows with CR2 and Satterthwaite degrees of freedom, clubSandwich's default
# (coef_test(fit, vcov = "CR2", test = "Satterthwaite"), conf_int for the interval):
# gee_rows_cr2_results.csv.
# The primary rows (below) in gee_rows_primary_results.csv.
# R 4.2.2, clubSandwich 0.5.8 (Debian r-cran-clubsandwich). Run from the project root:
#   Rscript tests/reference/gee_rows.R
library(clubSandwich)
d <- read.csv("tests/reference/gee_rows_input.csv", check.names = FALSE,
              colClasses = c(system = "character"))
keys <- setdiff(names(d), c("system", "group"))
res <- do.call(rbind, lapply(keys, function(key) {
  s <- d[!is.na(d[[key]]) & d$group %in% c(0, 1), c("system", "group", key)]
  names(s)[3] <- "y"
  fit <- lm(y ~ group, data = s)
  V <- vcovCR(fit, cluster = s$system, type = "CR3")
  k <- length(unique(s$system))
  est <- unname(coef(fit)[2]); se <- sqrt(V[2, 2]); df <- k - 2
  q <- qt(0.975, df)
  data.frame(key = key, estimate = est, se = se, df = df,
             p = 2 * pt(-abs(est / se), df), ci_low = est - q * se, ci_high = est + q * se)
}))
write.csv(format(res, digits = 15), "tests/reference/gee_rows_results.csv", row.names = FALSE,
          quote = FALSE)
cr2 <- do.call(rbind, lapply(keys, function(key) {
  s <- d[!is.na(d[[key]]) & d$group %in% c(0, 1), c("system", "group", key)]
  names(s)[3] <- "y"
  fit <- lm(y ~ group, data = s)
  tt <- coef_test(fit, vcov = "CR2", cluster = s$system, test = "Satterthwaite", coefs = "group")
  ci <- conf_int(fit, vcov = "CR2", cluster = s$system, test = "Satterthwaite", coefs = "group")
  data.frame(key = key, estimate = tt$beta, se = tt$SE, df = tt$df_Satt, p = tt$p_Satt,
             ci_low = ci$CI_L, ci_high = ci$CI_U)
}))
write.csv(format(cr2, digits = 15), "tests/reference/gee_rows_cr2_results.csv",
          row.names = FALSE, quote = FALSE)
# The primary clustered analysis as the 04 stage computes it (gee_care_system): for a 0/1 row,
# Newcombe's hybrid score interval on design-effect-adjusted counts, as newcombe_cr2.R writes it
# out (each group's design effect: the CR2 variance of its proportion, clubSandwich's vcovCR of
# lm(y ~ 0 + factor(group)), over p (1 - p) / n, 1 where p is 0 or 1; Wilson at qt(0.975, df),
# df the Satterthwaite df of coef_test), p inverting the interval: the z at which the bound
# nearest 0 touches 0 (uniroot), p = 2 pt(-z, df); for a mean, the CR2 row above:
# gee_rows_primary_results.csv.
wilson <- function(p, n, z) (p + z^2 / (2 * n) + c(-1, 1) * z * sqrt(p * (1 - p) / n +
  z^2 / (4 * n^2))) / (1 + z^2 / n)
newcombe <- function(p, ne, z) {
  w0 <- wilson(p[1], ne[1], z); w1 <- wilson(p[2], ne[2], z); d <- p[2] - p[1]
  c(d - sqrt((p[2] - w1[1])^2 + (w0[2] - p[1])^2), d + sqrt((w1[2] - p[2])^2 + (p[1] - w0[1])^2))
}
primary <- do.call(rbind, lapply(keys, function(key) {
  s <- d[!is.na(d[[key]]) & d$group %in% c(0, 1), c("system", "group", key)]
  names(s)[3] <- "y"
  row <- cr2[cr2$key == key, ]
  if (!all(s$y %in% c(0, 1))) return(row)
  v <- diag(as.matrix(vcovCR(lm(y ~ 0 + factor(group), data = s), cluster = s$system,
                             type = "CR2")))
  n <- as.numeric(table(s$group)); p <- as.numeric(tapply(s$y, s$group, mean))
  deff <- ifelse(p > 0 & p < 1, v / (p * (1 - p) / n), 1)
  ne <- n / deff; df <- row$df
  ci <- newcombe(p, ne, qt(0.975, df)); est <- p[2] - p[1]
  side <- if (est > 0) 1 else 2
  gap <- function(z) { b <- newcombe(p, ne, z)[side]; if (side == 1) b else -b }
  z <- if (est == 0) 0 else uniroot(gap, c(1e-12, 37), tol = 1e-14)$root
  data.frame(key = key, estimate = est, se = row$se, df = df,
             p = if (est == 0) 1 else 2 * pt(-z, df), ci_low = ci[1], ci_high = ci[2])
}))
write.csv(format(primary, digits = 15), "tests/reference/gee_rows_primary_results.csv",
          row.names = FALSE, quote = FALSE)
