package io.github.spo4j.testutil;

/**
 * Pearson's chi-square goodness of fit with its exact tail: p = Q(df/2, χ²/2), the regularized upper
 * incomplete gamma function (series for x &lt; a + 1, Lentz's continued fraction beyond; Numerical Recipes
 * §6.2), and the quantile by bisection on it.
 */
public final class ChiSquare {
    private ChiSquare() {}

    /** Σ (observed − expected)² / expected over the bins. */
    public static double statistic(long[] observed, double[] expected) {
        double s = 0;
        for (int i = 0; i < observed.length; i++) {
            double d = observed[i] - expected[i];
            s += d * d / expected[i];
        }
        return s;
    }

    /** P(X &gt;= x) for X ~ χ²(df). */
    public static double pValue(double x, int df) {
        return upperGamma(df / 2.0, x / 2.0);
    }

    /** The x with P(X &gt;= x) = tail for X ~ χ²(df). */
    public static double quantile(double tail, int df) {
        double lo = 0, hi = df + 10 * Math.sqrt(2.0 * df) + 100;
        while (pValue(hi, df) > tail) hi *= 2;
        for (int it = 0; it < 200; it++) {
            double mid = 0.5 * (lo + hi);
            if (pValue(mid, df) > tail) lo = mid;
            else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    /** Q(a, x) = Γ(a, x) / Γ(a). */
    static double upperGamma(double a, double x) {
        if (x <= 0) return 1;
        double front = Math.exp(-x + a * Math.log(x) - logGamma(a));
        if (x < a + 1) {
            double ap = a, sum = 1 / a, del = sum;
            for (int n = 0; n < 10000 && Math.abs(del) > Math.abs(sum) * 1e-16; n++) {
                ap += 1;
                del *= x / ap;
                sum += del;
            }
            return 1 - sum * front;
        }
        double tiny = 1e-300;
        double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
        for (int i = 1; i < 10000; i++) {
            double an = -i * (i - a);
            b += 2;
            d = an * d + b;
            if (Math.abs(d) < tiny) d = tiny;
            c = b + an / c;
            if (Math.abs(c) < tiny) c = tiny;
            d = 1 / d;
            double del = d * c;
            h *= del;
            if (Math.abs(del - 1) < 1e-16) break;
        }
        return front * h;
    }

    /** ln Γ(x) for x &gt; 0 (Lanczos, g = 7, n = 9; relative error ~1e-15). */
    static double logGamma(double x) {
        double[] c = {
            0.99999999999980993,
            676.5203681218851,
            -1259.1392167224028,
            771.32342877765313,
            -176.61502916214059,
            12.507343278686905,
            -0.13857109526572012,
            9.9843695780195716e-6,
            1.5056327351493116e-7
        };
        if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
        x -= 1;
        double a = c[0], t = x + 7.5;
        for (int i = 1; i < 9; i++) a += c[i] / (x + i);
        return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
    }
}
