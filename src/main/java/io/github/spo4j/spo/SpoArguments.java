package io.github.spo4j.spo;

/**
 * Argument checks of the chain side of this package (partitions, MC values, chain and VinePPO advantages). Every
 * failure is an {@link IllegalArgumentException} whose message starts with the argument's name.
 */
final class SpoArguments {
    private SpoArguments() {}

    static <T> T notNull(T value, String name) {
        if (value == null) throw new IllegalArgumentException(name + " must not be null");
        return value;
    }

    static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    static void positive(int value, String name) {
        if (value <= 0) throw new IllegalArgumentException(name + " must be > 0, got " + value);
    }

    static void finite(double value, String name) {
        if (!Double.isFinite(value)) throw new IllegalArgumentException(name + " must be finite, got " + value);
    }

    static void finite(float[] values, String name) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new IllegalArgumentException(name + "[" + i + "] must be finite, got " + values[i]);
            }
        }
    }

    static void tokenIds(int[] ids, String name) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0) throw new IllegalArgumentException(name + "[" + i + "] is a negative token id: " + ids[i]);
        }
    }

    /** A probability threshold ρ of SPO (cutpoints p &lt; ρ, generator-side zeroing p &gt; ρ): finite, in (0, 1]. */
    static void probabilityThreshold(double rho, String name) {
        if (!(rho > 0 && rho <= 1)) throw new IllegalArgumentException(name + " must be in (0, 1], got " + rho);
    }
}
