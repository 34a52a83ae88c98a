package io.github.spo4j.tasks;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** The seeded generation loop the built-in tasks share: problem i drawn from one stream, in order. */
final class SeededProblems {
    /** One problem with its id, drawn from the shared stream. */
    @FunctionalInterface
    interface Draw {
        Problem problem(int id, SplittableRandom rng);
    }

    private SeededProblems() {}

    /** {@code count} problems with ids {@code firstId ..}, the same for the same seed on every machine. */
    static List<Problem> generate(int count, int firstId, long seed, Draw draw) {
        if (count < 0) throw new IllegalArgumentException("count must be >= 0, got " + count);
        if (firstId < 0) throw new IllegalArgumentException("firstId must be >= 0, got " + firstId);
        SplittableRandom rng = new SplittableRandom(seed);
        List<Problem> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) out.add(draw.problem(firstId + i, rng));
        return out;
    }
}
