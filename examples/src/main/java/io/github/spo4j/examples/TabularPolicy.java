package io.github.spo4j.examples;

import java.util.SplittableRandom;

/**
 * The example's own policy, in plain Java: one row of logits per state (previous token, position), so
 * π(token | prev, i) = softmax(row(prev, i))[token]. It samples by itself and updates its table with Adam from a
 * gradient over its logits, which spo4j's fused loss computes.
 */
final class TabularPolicy {
    static final int STATES = CountingTask.VOCAB * CountingTask.LENGTH;
    private static final int V = CountingTask.VOCAB;

    private final float[][] logits = new float[STATES][V]; // zeros: the uniform policy
    private final double[][] m = new double[STATES][V], v = new double[STATES][V];
    private final double learningRate;
    private int steps;

    /** A sampled piece of a response: its tokens and their log-probs under the policy that drew them. */
    record Piece(int[] tokens, float[] logp) {}

    TabularPolicy(double learningRate) {
        this.learningRate = learningRate;
    }

    static int state(int prev, int position) {
        return position * V + prev;
    }

    /** The logits of the state before position {@code position}, whose previous token is {@code prev}. */
    float[] row(int prev, int position) {
        return logits[state(prev, position)].clone();
    }

    /**
     * Samples positions {@code from .. to − 1} after the prompt and {@code prefix} (the response so far, {@code from}
     * tokens). Greedy takes the most likely token; otherwise a token is drawn from the softmax by inverse CDF.
     */
    Piece sample(int prompt, int[] prefix, int to, boolean greedy, SplittableRandom rng) {
        int from = prefix.length;
        int[] tokens = new int[to - from];
        float[] logp = new float[to - from];
        int prev = from == 0 ? prompt : prefix[from - 1];
        for (int i = from; i < to; i++) {
            double[] lp = logSoftmax(logits[state(prev, i)]);
            int token = greedy ? argmax(lp) : draw(lp, rng.nextDouble());
            tokens[i - from] = token;
            logp[i - from] = (float) lp[token];
            prev = token;
        }
        return new Piece(tokens, logp);
    }

    /**
     * One Adam step from ∂loss/∂logits given per state ({@code gradient[s]} is null for a state no token visited).
     */
    void step(float[][] gradient) {
        steps++;
        double b1 = 0.9, b2 = 0.999, eps = 1e-8;
        double c1 = 1 - Math.pow(b1, steps), c2 = 1 - Math.pow(b2, steps);
        for (int s = 0; s < STATES; s++) {
            for (int t = 0; t < V; t++) {
                double g = gradient[s] == null ? 0 : gradient[s][t];
                m[s][t] = b1 * m[s][t] + (1 - b1) * g;
                v[s][t] = b2 * v[s][t] + (1 - b2) * g * g;
                logits[s][t] -= (float) (learningRate * (m[s][t] / c1) / (Math.sqrt(v[s][t] / c2) + eps));
            }
        }
    }

    static double[] logSoftmax(float[] row) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : row) max = Math.max(max, x);
        double sum = 0;
        for (float x : row) sum += Math.exp(x - max);
        double logZ = max + Math.log(sum);
        double[] out = new double[row.length];
        for (int i = 0; i < row.length; i++) out[i] = row[i] - logZ;
        return out;
    }

    private static int draw(double[] logp, double u) {
        double cumulative = 0;
        for (int i = 0; i < logp.length; i++) {
            cumulative += Math.exp(logp[i]);
            if (u < cumulative) return i;
        }
        return logp.length - 1; // u within rounding of 1
    }

    private static int argmax(double[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
