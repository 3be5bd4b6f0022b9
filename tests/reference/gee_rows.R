# Every row of Tables 3 and 4 of the synthetic run, clustered by care system: the primary analysis
# of the 04 stage (GEE, independence working correlation = the crude difference of group means)
# computed as the linear model y ~ group with clubSandwich's CR3 covariance (Mancl-DeRouen) and a
# t reference with K - 2 degrees of freedom (K = care systems with an answer to the row).
# Input: gee_rows_input.csv (tests/reference/gee_rows_input.py); output: gee_rows_results.csv.
# The same rows with CR2 and Satterthwaite degrees of freedom, clubSandwich's default
# (coef_test(fit, vcov = "CR2", test = "Satterthwaite"), conf_int for the interval):
# gee_rows_cr2_results.csv.
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
