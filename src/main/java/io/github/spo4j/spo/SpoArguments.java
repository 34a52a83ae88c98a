package io.github.spo4j.spo;

/**
 * Argument checks of this package's public entries. Every failure is an {@link IllegalArgumentException}
 * whose message starts with the argument's name.
 */
public final class SpoArguments {
    private SpoArguments() {}

    public static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    public static <T> T notNull(T o, String name) {
        if (o == null) throw new IllegalArgumentException(name + " must not be null");
        return o;
    }

    public static void length(int actual, int expected, String name) {
        if (actual != expected) {
            throw new IllegalArgumentException(name + " has length " + actual + ", expected " + expected);
        }
    }

    /** Non-null token ids, each >= 0. */
    public static void tokenIds(int[] ids, String name) {
        notNull(ids, name);
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0) throw new IllegalArgumentException(name + "[" + i + "] = " + ids[i] + " is not a token id");
        }
    }

    /** Non-null and every entry finite. */
    public static void finite(float[] x, String name) {
        notNull(x, name);
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i])) {
                throw new IllegalArgumentException(name + "[" + i + "] = " + x[i] + " is not finite");
            }
        }
    }

    public static void finite(double x, String name) {
        if (!Double.isFinite(x)) throw new IllegalArgumentException(name + " = " + x + " is not finite");
    }

    public static void positive(int x, String name) {
        if (x <= 0) throw new IllegalArgumentException(name + " must be > 0, got " + x);
    }

    /** offsets: [G+1], 0 first, strictly increasing (no empty group), n last. */
    public static void groupOffsets(int[] offsets, int n, String name) {
        notNull(offsets, name);
        require(offsets.length >= 2, name + " must have G+1 >= 2 entries, got " + offsets.length);
        require(offsets[0] == 0, name + "[0] must be 0, got " + offsets[0]);
        for (int g = 1; g < offsets.length; g++) {
            if (offsets[g] <= offsets[g - 1]) {
                throw new IllegalArgumentException(name + " must be strictly increasing (no empty group): " + name + "["
                        + g + "] = " + offsets[g] + " <= " + name + "[" + (g - 1) + "] = " + offsets[g - 1]);
            }
        }
        require(
                offsets[offsets.length - 1] == n,
                name + "[G] must equal the number of entries " + n + ", got " + offsets[offsets.length - 1]);
    }

    /** A probability threshold ρ of SPO (cutpoints p &lt; ρ, generator-side zeroing p &gt; ρ): finite, in (0, 1]. */
    public static void probabilityThreshold(double rho, String name) {
        if (!(rho > 0 && rho <= 1)) throw new IllegalArgumentException(name + " must be in (0, 1], got " + rho);
    }
}
