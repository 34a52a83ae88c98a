package io.github.spo4j.tasks;

import java.util.List;
import java.util.SplittableRandom;

/**
 * The built-in task: multi-step integer arithmetic evaluated left to right, one operation per solution line and a
 * final {@code "#### answer"} (GSM8K's form, so {@link Gsm8kAnswers} checks and scores it). For example
 * <pre>
 *   question:  12+7*3-4=
 *   solution:  12+7=19
 *              19*3=57
 *              57-4=53
 *              #### 53
 * </pre>
 * Difficulty knobs: the number of operations, the largest operand, and the operations used. Intermediate results
 * stay in [0, {@link Difficulty#maxValue}]: an operation that would leave that range is redrawn (and a problem
 * that cannot continue is drawn again), so every problem's text uses only digits, {@code + - * =}, newlines,
 * spaces and {@code #}.
 */
public final class ArithmeticTask {
    /**
     * @param minSteps   fewest operations, &gt;= 1
     * @param maxSteps   most operations, &gt;= minSteps
     * @param maxOperand operands in [1, maxOperand] (the first number in [0, maxOperand])
     * @param maxValue   intermediate results in [0, maxValue]
     * @param operations a non-empty subset of "+-*"
     */
    public record Difficulty(int minSteps, int maxSteps, int maxOperand, int maxValue, String operations) {
        public Difficulty {
            if (minSteps < 1) throw new IllegalArgumentException("minSteps must be >= 1, got " + minSteps);
            if (maxSteps < minSteps) {
                throw new IllegalArgumentException("maxSteps = " + maxSteps + " must be >= minSteps = " + minSteps);
            }
            if (maxOperand < 1) throw new IllegalArgumentException("maxOperand must be >= 1, got " + maxOperand);
            if (maxValue < maxOperand) {
                throw new IllegalArgumentException("maxValue = " + maxValue + " must be >= maxOperand = " + maxOperand);
            }
            if (operations == null
                    || operations.isEmpty()
                    || !operations.chars().allMatch(c -> "+-*".indexOf(c) >= 0)) {
                throw new IllegalArgumentException(
                        "operations must be a non-empty subset of \"+-*\", got " + operations);
            }
        }

        /** The default: 2-4 operations on numbers up to 20, results up to 999, all three operations. */
        public static Difficulty standard() {
            return new Difficulty(2, 4, 20, 999, "+-*");
        }
    }

    private final Difficulty difficulty;

    public ArithmeticTask(Difficulty difficulty) {
        if (difficulty == null) throw new IllegalArgumentException("difficulty must not be null");
        this.difficulty = difficulty;
    }

    public Difficulty difficulty() {
        return difficulty;
    }

    /** {@code count} problems with ids {@code firstId ..}, the same for the same seed on every machine. */
    public List<Problem> generate(int count, int firstId, long seed) {
        return SeededProblems.generate(count, firstId, seed, this::problem);
    }

    private Problem problem(int id, SplittableRandom rng) {
        Difficulty d = difficulty;
        int steps = d.minSteps() + rng.nextInt(d.maxSteps() - d.minSteps() + 1);
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            Problem p = tryProblem(id, steps, rng);
            if (p != null) return p;
        }
        throw new IllegalStateException("no " + steps + "-step problem keeps results in [0, " + d.maxValue()
                + "] with operations \"" + d.operations() + "\" (e.g. subtraction only from small numbers)");
    }

    private static final int MAX_ATTEMPTS = 1000;
    private static final int REDRAWS_PER_STEP = 64;

    /** One problem, or null when some step found no operation that keeps the result in range. */
    private Problem tryProblem(int id, int steps, SplittableRandom rng) {
        Difficulty d = difficulty;
        int value = rng.nextInt(d.maxOperand() + 1);
        SeededProblems.WorkedChain chain = new SeededProblems.WorkedChain(value);
        for (int s = 0; s < steps; s++) {
            char op = 0;
            int operand = 0, next = -1;
            for (int r = 0; r < REDRAWS_PER_STEP && (next < 0 || next > d.maxValue()); r++) {
                op = d.operations().charAt(rng.nextInt(d.operations().length()));
                operand = 1 + rng.nextInt(d.maxOperand());
                next = apply(value, op, operand);
            }
            if (next < 0 || next > d.maxValue()) return null;
            chain.step(op, operand, next);
            value = next;
        }
        return chain.problem(id);
    }

    private static int apply(int a, char op, int b) {
        return switch (op) {
            case '+' -> a + b;
            case '-' -> a - b;
            case '*' -> a * b;
            default -> throw new IllegalStateException("operation " + op);
        };
    }

    /** The exact checker: the response's GSM8K answer equals the problem's. */
    public static boolean isCorrect(Problem problem, String response) {
        return Gsm8kAnswers.extract(response)
                .map(a -> Gsm8kAnswers.isCorrect(a, problem.answer()))
                .orElse(false);
    }
}
