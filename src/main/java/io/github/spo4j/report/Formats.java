package io.github.spo4j.report;

import java.util.Locale;

/** Human-readable numbers shared by the terminal table, the markdown report, the plots and the progress lines. */
final class Formats {
    /** Written for a value that was not measured (NaN) or cannot be shown. */
    static final String MISSING = "-";

    private Formats() {}

    /** A fraction as a percentage with one decimal, e.g. {@code 0.4125 -> "41.3%"}. */
    static String percent(double fraction) {
        if (Double.isNaN(fraction)) return MISSING;
        return String.format(Locale.ROOT, "%.1f%%", 100 * fraction);
    }

    /** Mean and standard deviation of fractions as percentages, e.g. {@code "41.3% ± 1.2"}. */
    static String percentMeanStd(double mean, double std) {
        if (Double.isNaN(mean)) return MISSING;
        return String.format(Locale.ROOT, "%.1f%% ± %.1f", 100 * mean, 100 * std);
    }

    /**
     * A count with three significant digits and a k/M/B suffix: {@code 456 -> "456"}, {@code 45_600 -> "45.6k"},
     * {@code 456_000 -> "456k"}, {@code 1_234_000 -> "1.23M"}.
     */
    static String count(double n) {
        if (Double.isNaN(n)) return MISSING;
        if (Math.abs(n) < 999.5) return String.format(Locale.ROOT, "%.0f", n);
        String[] suffixes = {"k", "M", "B", "T"};
        double scaled = n;
        for (int i = 0; i < suffixes.length; i++) {
            scaled /= 1000;
            if (Math.abs(scaled) < 999.5 || i == suffixes.length - 1) {
                double a = Math.abs(scaled);
                String pattern = a < 9.995 ? "%.2f" : a < 99.95 ? "%.1f" : "%.0f";
                return String.format(Locale.ROOT, pattern, scaled) + suffixes[i];
            }
        }
        throw new AssertionError();
    }

    /**
     * A duration: {@code "4.2s"} under 10 s, {@code "42s"} under a minute, {@code "1m 23s"} under an hour,
     * else {@code "2h 05m"}.
     */
    static String duration(double seconds) {
        if (!Double.isFinite(seconds)) return MISSING;
        if (seconds < 9.95) return String.format(Locale.ROOT, "%.1fs", seconds);
        long s = Math.round(seconds);
        if (s < 60) return s + "s";
        if (s < 3600) return String.format(Locale.ROOT, "%dm %02ds", s / 60, s % 60);
        long m = Math.round(seconds / 60);
        return String.format(Locale.ROOT, "%dh %02dm", m / 60, m % 60);
    }
}
