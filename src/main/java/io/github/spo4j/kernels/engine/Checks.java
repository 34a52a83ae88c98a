package io.github.spo4j.kernels.engine;

/** Argument checks shared by every backend, run before any native code. Messages name the argument. */
public final class Checks {
    private Checks() {}

    public static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    public static void notNull(Object o, String name) {
        if (o == null) throw new IllegalArgumentException(name + " must not be null");
    }

    public static void length(int actual, long expected, String name) {
        if (actual != expected) {
            throw new IllegalArgumentException(name + " has length " + actual + ", expected " + expected);
        }
    }

    public static void temperature(float t) {
        require(Float.isFinite(t) && t > 0, "temperature must be finite and > 0, got " + t);
    }
}
