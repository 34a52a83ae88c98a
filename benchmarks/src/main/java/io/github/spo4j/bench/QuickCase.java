package io.github.spo4j.bench;

/**
 * A kernel on one input in the quick side-by-side ({@link QuickBench}): its shape, the bytes an ideal
 * implementation moves, and its implementations. Each op's cases sit beside its JMH benchmark.
 */
public interface QuickCase {
    String kernel();

    String shape();

    /** Bytes an ideal implementation moves: inputs read once, the gradient written once. */
    long bytes();

    /** One of {@code reference}, {@code cpu}, {@code cuda}, {@code torch}, on this case's inputs. */
    Impl create(String impl);

    /** One implementation of one kernel on fixed inputs, ready to run repeatedly. */
    interface Impl extends AutoCloseable {
        /** One forward + gradient; returns the loss (or the figure the case compares in its place). */
        double run();

        /** The gradient of the last run (or the outputs the case compares in its place), on the host. */
        float[] gradient();

        @Override
        void close();
    }

    static double sum(float[] x) {
        double s = 0;
        for (float v : x) s += v;
        return s;
    }
}
