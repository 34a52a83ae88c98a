package io.github.spo4j.kernels.loss;

import io.github.spo4j.kernels.engine.Checks;

/**
 * The policy loss's argument checks over Java arrays, run before any native code and shared by {@link PolicyLoss},
 * {@link PolicyLossReference} and the loss helpers. Messages name the argument.
 */
final class PolicyLossChecks {
    private PolicyLossChecks() {}

    /** seqOffsets: 0 first, non-decreasing, N last. */
    static void offsets(int[] offsets, long n) {
        if (offsets == null) return;
        Checks.require(offsets.length >= 1, "seqOffsets must have B+1 >= 1 entries");
        Checks.require(offsets[0] == 0, "seqOffsets[0] must be 0, got " + offsets[0]);
        for (int i = 1; i < offsets.length; i++) {
            if (offsets[i] < offsets[i - 1]) {
                throw new IllegalArgumentException("seqOffsets must be non-decreasing: seqOffsets[" + i + "] = "
                        + offsets[i] + " < seqOffsets[" + (i - 1) + "] = " + offsets[i - 1]);
            }
        }
        Checks.require(
                offsets[offsets.length - 1] == n,
                "seqOffsets[B] must equal N = " + n + ", got " + offsets[offsets.length - 1]);
    }

    static void finiteWhereValid(float[] x, boolean[] valid, String name) {
        if (x == null) return;
        for (int t = 0; t < x.length; t++) {
            if ((valid == null || valid[t]) && !Float.isFinite(x[t])) {
                throw new IllegalArgumentException(name + "[" + t + "] is not finite");
            }
        }
    }

    static void config(PolicyLossConfig config, boolean hasRef) {
        Checks.notNull(config, "config");
        Checks.require(config.beta() == 0 || hasRef, "refLogp is required when beta > 0");
    }

    static void tokens(PolicyLossConfig config, TokenBatch x, float[] gradLogp) {
        Checks.notNull(x, "batch");
        Checks.notNull(x.logp(), "logp");
        Checks.notNull(x.oldLogp(), "oldLogp");
        Checks.notNull(x.advantages(), "advantages");
        int n = x.oldLogp().length;
        Checks.length(x.logp().length, n, "logp");
        Checks.length(x.advantages().length, n, "advantages");
        if (x.refLogp() != null) Checks.length(x.refLogp().length, n, "refLogp");
        if (x.valid() != null) Checks.length(x.valid().length, n, "valid");
        if (gradLogp != null) Checks.length(gradLogp.length, n, "gradLogp");
        config(config, x.refLogp() != null);
        offsets(x.seqOffsets(), n);
        finiteWhereValid(x.logp(), x.valid(), "logp");
        finiteWhereValid(x.oldLogp(), x.valid(), "oldLogp");
        finiteWhereValid(x.advantages(), x.valid(), "advantages");
        finiteWhereValid(x.refLogp(), x.valid(), "refLogp");
    }

    static void logitsRows(float[] logits, int vocab, int[] targets, boolean[] valid, String logitsName) {
        Checks.notNull(logits, logitsName);
        Checks.notNull(targets, "targets");
        Checks.require(vocab > 0, "vocab must be > 0, got " + vocab);
        int n = targets.length;
        Checks.length(logits.length, (long) n * vocab, logitsName + " (N × V)");
        for (int i = 0; i < n; i++) {
            if (valid != null && !valid[i]) continue;
            if (targets[i] < 0 || targets[i] >= vocab) {
                throw new IllegalArgumentException(
                        "targets[" + i + "] = " + targets[i] + " is outside [0, V = " + vocab + ")");
            }
            for (int j = 0; j < vocab; j++) {
                if (!Float.isFinite(logits[i * vocab + j])) {
                    throw new IllegalArgumentException("logits row " + i + " has a NaN or infinite value");
                }
            }
        }
    }

    /**
     * The arrays of the token log-probs backward: shapes first, then gradLogp finite, then the targets and
     * logits of the rows with gradLogp != 0 (the only rows that are read).
     */
    static void tokenLogprobsBackward(
            float[] logits, int vocab, int[] targets, float temperature, float[] gradLogp, float[] gradLogits) {
        Checks.temperature(temperature);
        Checks.notNull(logits, "logits");
        Checks.notNull(targets, "targets");
        Checks.require(vocab > 0, "vocab must be > 0, got " + vocab);
        int n = targets.length;
        Checks.length(logits.length, (long) n * vocab, "logits (N × V)");
        Checks.notNull(gradLogp, "gradLogp");
        Checks.length(gradLogp.length, n, "gradLogp");
        Checks.notNull(gradLogits, "gradLogits");
        Checks.length(gradLogits.length, (long) n * vocab, "gradLogits");
        finiteWhereValid(gradLogp, null, "gradLogp");
        boolean[] read = new boolean[n];
        for (int i = 0; i < n; i++) read[i] = gradLogp[i] != 0;
        logitsRows(logits, vocab, targets, read, "logits");
    }

    static void logits(
            PolicyLossConfig config, LogitsBatch x, float[] gradLogits, float[] logpOut, float[] entropyOut) {
        Checks.notNull(x, "batch");
        Checks.temperature(x.temperature());
        Checks.notNull(x.oldLogp(), "oldLogp");
        Checks.notNull(x.advantages(), "advantages");
        int n = x.numTokens();
        Checks.notNull(x.targets(), "targets");
        Checks.length(x.oldLogp().length, n, "oldLogp");
        Checks.length(x.advantages().length, n, "advantages");
        if (x.refLogp() != null) Checks.length(x.refLogp().length, n, "refLogp");
        if (x.valid() != null) Checks.length(x.valid().length, n, "valid");
        if (gradLogits != null) Checks.length(gradLogits.length, (long) n * x.vocab(), "gradLogits");
        if (logpOut != null) Checks.length(logpOut.length, n, "logpOut");
        if (entropyOut != null) Checks.length(entropyOut.length, n, "entropyOut");
        config(config, x.refLogp() != null);
        offsets(x.seqOffsets(), n);
        logitsRows(x.logits(), x.vocab(), x.targets(), x.valid(), "logits");
        finiteWhereValid(x.oldLogp(), x.valid(), "oldLogp");
        finiteWhereValid(x.advantages(), x.valid(), "advantages");
        finiteWhereValid(x.refLogp(), x.valid(), "refLogp");
    }
}
