package io.github.spo4j.testutil;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The one tolerance helper: |expected − actual| <= atol + rtol·|expected| element-wise, reporting the
 * first mismatches (index, both values, difference) instead of just the first.
 */
public final class Close {
    private static final int SHOWN = 10;

    private Close() {}

    public static void assertAllClose(String what, float[] expected, float[] actual, double atol, double rtol) {
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + ", expected " + expected.length);
        }
        StringBuilder report = new StringBuilder();
        int bad = 0;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], a = actual[i];
            double diff = Math.abs(e - a);
            boolean ok = (Double.isNaN(e) && Double.isNaN(a)) || diff <= atol + rtol * Math.abs(e);
            if (!ok) {
                if (bad < SHOWN) {
                    report.append(String.format("%n  [%d] expected %.9g, got %.9g (diff %.3g)", i, e, a, diff));
                }
                bad++;
                worst = Math.max(worst, diff);
            }
        }
        if (bad > 0) {
            fail(String.format(
                    "%s: %d of %d values differ beyond atol %.2g + rtol %.2g (worst diff %.3g):%s",
                    what, bad, expected.length, atol, rtol, worst, report));
        }
    }

    public static void assertClose(String what, double expected, double actual, double atol, double rtol) {
        double diff = Math.abs(expected - actual);
        if (!(diff <= atol + rtol * Math.abs(expected))) {
            fail(String.format("%s: expected %.12g, got %.12g (diff %.3g)", what, expected, actual, diff));
        }
    }

    /** Largest |x| (at least `floor`): scales absolute tolerances to the data. */
    public static double maxAbs(float[] x, double floor) {
        double m = floor;
        for (float v : x) m = Math.max(m, Math.abs(v));
        return m;
    }
}
