package io.github.spo4j.tasks;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntFunction;

/** The seeded generation loop the built-in tasks share: problem i drawn from one stream, in order. */
final class SeededProblems {
    /** One problem with its id, drawn from the shared stream. */
    @FunctionalInterface
    interface Draw {
        Problem problem(int id, SplittableRandom rng);
    }

    private SeededProblems() {}

    /**
     * The text of a left-to-right chain: the question {@code "a op b op c="} and one solution line {@code
     * "value op operand=next"} per step, then GSM8K's {@code "#### answer"}, every number written by {@code write}.
     */
    static final class WorkedChain {
        private final StringBuilder question = new StringBuilder(), solution = new StringBuilder();
        private final IntFunction<String> write;
        private int value;

        /** A chain of decimal numbers. */
        WorkedChain(int start) {
            this(start, Integer::toString);
        }

        WorkedChain(int start, IntFunction<String> write) {
            this.write = write;
            value = start;
            question.append(write.apply(start));
        }

        void step(char op, int operand, int next) {
            question.append(op).append(write.apply(operand));
            solution.append(write.apply(value))
                    .append(op)
                    .append(write.apply(operand))
                    .append('=')
                    .append(write.apply(next))
                    .append('\n');
            value = next;
        }

        Problem problem(int id) {
            String answer = write.apply(value);
            return new Problem(id, question + "=", solution + Gsm8kAnswers.MARKER + " " + answer, answer);
        }
    }

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
