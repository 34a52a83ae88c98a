package io.github.spo4j.report;

import java.util.ArrayList;
import java.util.List;

/** Evaluation points of a small comparison with known values. */
final class ReportTestData {
    private ReportTestData() {}

    /** Greedy accuracy of {@code algorithm} at evaluation {@code k} (0..3) for seed index {@code s} (0..2). */
    static double accuracy(int algorithm, int s, int k) {
        return 0.30 + 0.05 * k * (algorithm + 1) + 0.01 * s;
    }

    /**
     * 2 algorithms ("grpo", "spo-tree") × 3 seeds (11, 12, 13) × 4 evaluations at iterations 0, 10, 20, 30.
     * Tokens: 1000 per iteration times (algorithm + 1), plus 7 × seed index; wall time 2 s per iteration plus seed
     * index. Sampled accuracy only at the last evaluation of spo-tree; train reward NaN at iteration 0.
     */
    static List<EvalPoint> twoAlgorithmsThreeSeeds() {
        String[] names = {"grpo", "spo-tree"};
        List<EvalPoint> points = new ArrayList<>();
        for (int a = 0; a < 2; a++) {
            for (int s = 0; s < 3; s++) {
                for (int k = 0; k < 4; k++) {
                    int iteration = 10 * k;
                    long tokens = k == 0 ? 0 : 1000L * iteration * (a + 1) + 7L * s;
                    double wall = k == 0 ? 0 : 2.0 * iteration + s;
                    double sampled = a == 1 && k == 3 ? 0.5 + 0.1 * s : Double.NaN;
                    double reward = k == 0 ? Double.NaN : 0.1 * k;
                    points.add(new EvalPoint(
                            names[a], 11 + s, iteration, tokens, wall, accuracy(a, s, k), sampled, reward));
                }
            }
        }
        return points;
    }
}
