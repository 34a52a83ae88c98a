package io.github.spo4j.tasks;

import java.util.List;
import java.util.SplittableRandom;

/**
 * The built-in task family with the number of decisions as its knob: a chain of operations modulo a small base,
 * evaluated left to right, one operation per solution line. Every line ends in exactly one computed digit, the line's
 * decision; every operation is a bijection of the residues (adding or subtracting 1 .. m-1, multiplying by a unit
 * other than 1), so a single wrong line always makes the final answer wrong, and success is all-or-nothing. For
 * example, modulo 10:
 * <pre>
 *   question:  7+3*9-4=
 *   solution:  7+3=0
 *              0*9=0
 *              0-4=6
 *              #### 6
 * </pre>
 * Every value is one character, a base-36 digit ({@code 0-9} then {@code a-z}, so that a modulus up to 36 keeps one
 * decided character per line; below 11 the text is plain decimal). A response of {@code d} decisions is {@code 6d +
 * 6} characters; the prompt {@code 2d + 2}. The answer takes GSM8K's {@code "#### answer"} form, so {@link
 * Gsm8kAnswers} checks and scores it.
 */
public final class ChainTask {
    /**
     * @param decisions  operations per problem, one decision each, in [1, {@value #MAX_DECISIONS}]
     * @param modulus    the base, in [3, {@value #MAX_MODULUS}], so that every value is one base-36 digit and "+-"
     *     have a non-zero operand
     * @param operations a non-empty subset of "+-*"
     */
    public record Difficulty(int decisions, int modulus, String operations) {
        public static final int MAX_DECISIONS = 64;
        public static final int MAX_MODULUS = Character.MAX_RADIX;

        public Difficulty {
            if (decisions < 1 || decisions > MAX_DECISIONS) {
                throw new IllegalArgumentException("decisions must be in [1, " + MAX_DECISIONS + "], got " + decisions);
            }
            if (modulus < 3 || modulus > MAX_MODULUS) {
                throw new IllegalArgumentException("modulus must be in [3, " + MAX_MODULUS + "], got " + modulus);
            }
            if (operations == null
                    || operations.isEmpty()
                    || !operations.chars().allMatch(c -> "+-*".indexOf(c) >= 0)) {
                throw new IllegalArgumentException(
                        "operations must be a non-empty subset of \"+-*\", got " + operations);
            }
        }

        /** {@code decisions} operations modulo 10 with all three operations. */
        public static Difficulty of(int decisions) {
            return new Difficulty(decisions, 10, "+-*");
        }
    }

    /**
     * The multipliers other than 1 that permute the residues modulo {@code modulus}: the units of Z_m (never empty for
     * m &gt;= 3, which has m - 1).
     */
    static int[] units(int modulus) {
        return java.util.stream.IntStream.range(2, modulus)
                .filter(k -> gcd(k, modulus) == 1)
                .toArray();
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    private final Difficulty difficulty;
    private final int[] units;

    public ChainTask(Difficulty difficulty) {
        if (difficulty == null) throw new IllegalArgumentException("difficulty must not be null");
        this.difficulty = difficulty;
        this.units = units(difficulty.modulus());
    }

    public Difficulty difficulty() {
        return difficulty;
    }

    /** {@code count} problems with ids {@code firstId ..}, the same for the same seed on every machine. */
    public List<Problem> generate(int count, int firstId, long seed) {
        return SeededProblems.generate(count, firstId, seed, this::problem);
    }

    private Problem problem(int id, SplittableRandom rng) {
        int m = difficulty.modulus();
        String ops = difficulty.operations();
        int value = rng.nextInt(m);
        SeededProblems.WorkedChain chain = new SeededProblems.WorkedChain(value, ChainTask::digit);
        for (int s = 0; s < difficulty.decisions(); s++) {
            char op = ops.charAt(rng.nextInt(ops.length()));
            int operand = op == '*' ? units[rng.nextInt(units.length)] : 1 + rng.nextInt(m - 1);
            int next = apply(value, op, operand, m);
            chain.step(op, operand, next);
            value = next;
        }
        return chain.problem(id);
    }

    /**
     * {@code problem}'s worked solution with slips: each line's result is, with probability {@code rate}, a residue
     * next to the right one (one above or one below modulo m, equally likely), and the lines after it compute
     * correctly from the slipped value, the answer line included. The likelihood of such text is highest for a model
     * that puts {@code 1 - rate} on the right result of every line and {@code rate / 2} on each neighbour: uncertainty
     * spread over every line of the chain rather than over the few facts a model has not learned yet. {@code rate} 0 gives
     * the worked solution itself and draws nothing from {@code rng}.
     *
     * @param problem a problem of this task's difficulty
     * @param rate    the probability of a slip on each line, in [0, 1)
     * @param rng     draws the slips
     */
    public String slippedSolution(Problem problem, double rate, SplittableRandom rng) {
        if (problem == null) throw new IllegalArgumentException("problem must not be null");
        if (!(rate >= 0 && rate < 1)) throw new IllegalArgumentException("rate must be in [0, 1), got " + rate);
        if (rng == null) throw new IllegalArgumentException("rng must not be null");
        String q = problem.question();
        int m = difficulty.modulus(), d = difficulty.decisions();
        if (q.length() != 2 * d + 2 || q.charAt(q.length() - 1) != '=') {
            throw new IllegalArgumentException("problem " + problem.id() + " is not a chain of " + d
                    + " operations: its question is \"" + q + "\"");
        }
        if (rate == 0) return problem.solution();
        int value = value(q.charAt(0), problem, m);
        SeededProblems.WorkedChain chain = new SeededProblems.WorkedChain(value, ChainTask::digit);
        for (int s = 0; s < d; s++) {
            char op = q.charAt(1 + 2 * s);
            if ("+-*".indexOf(op) < 0) {
                throw new IllegalArgumentException("problem " + problem.id() + " has operation " + op);
            }
            int operand = value(q.charAt(2 + 2 * s), problem, m);
            int next = apply(value, op, operand, m);
            if (rng.nextDouble() < rate) next = Math.floorMod(next + (rng.nextBoolean() ? 1 : -1), m);
            chain.step(op, operand, next);
            value = next;
        }
        return chain.problem(problem.id()).solution();
    }

    private static int value(char c, Problem problem, int modulus) {
        int v = Character.digit(c, Character.MAX_RADIX);
        if (v < 0 || v >= modulus) {
            throw new IllegalArgumentException(
                    "problem " + problem.id() + " has '" + c + "', not a value modulo " + modulus);
        }
        return v;
    }

    /** The one character of {@code value} in [0, 36): {@code 0-9}, then {@code a-z}. */
    static String digit(int value) {
        return String.valueOf(Character.forDigit(value, Character.MAX_RADIX));
    }

    /** {@code a op b} modulo {@code m}, in [0, m). */
    static int apply(int a, char op, int b, int m) {
        return switch (op) {
            case '+' -> (a + b) % m;
            case '-' -> Math.floorMod(a - b, m);
            case '*' -> (a * b) % m;
            default -> throw new IllegalStateException("operation " + op);
        };
    }
}
