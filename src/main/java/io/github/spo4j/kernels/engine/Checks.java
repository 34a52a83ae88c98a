package io.github.spo4j.kernels.engine;

import io.github.spo4j.kernels.loss.LogitsBatch;
import io.github.spo4j.kernels.loss.PolicyLossConfig;
import io.github.spo4j.kernels.loss.TokenBatch;

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

    /** seqOffsets: 0 first, non-decreasing, N last. */
    public static void offsets(int[] offsets, long n) {
        if (offsets == null) return;
        require(offsets.length >= 1, "seqOffsets must have B+1 >= 1 entries");
        require(offsets[0] == 0, "seqOffsets[0] must be 0, got " + offsets[0]);
        for (int i = 1; i < offsets.length; i++) {
            if (offsets[i] < offsets[i - 1]) {
                throw new IllegalArgumentException("seqOffsets must be non-decreasing: seqOffsets[" + i + "] = "
                        + offsets[i] + " < seqOffsets[" + (i - 1) + "] = " + offsets[i - 1]);
            }
        }
        require(offsets[offsets.length - 1] == n,
                "seqOffsets[B] must equal N = " + n + ", got " + offsets[offsets.length - 1]);
    }

    public static void finiteWhereValid(float[] x, boolean[] valid, String name) {
        if (x == null) return;
        for (int t = 0; t < x.length; t++) {
            if ((valid == null || valid[t]) && !Float.isFinite(x[t])) {
                throw new IllegalArgumentException(name + "[" + t + "] is not finite");
            }
        }
    }

    public static void config(PolicyLossConfig config, boolean hasRef) {
        notNull(config, "config");
        require(config.beta() == 0 || hasRef, "refLogp is required when beta > 0");
    }

    public static void temperature(float t) {
        require(Float.isFinite(t) && t > 0, "temperature must be finite and > 0, got " + t);
    }

    public static void tokens(PolicyLossConfig config, TokenBatch x, float[] gradLogp) {
        notNull(x, "batch");
        notNull(x.logp(), "logp");
        notNull(x.oldLogp(), "oldLogp");
        notNull(x.advantages(), "advantages");
        int n = x.oldLogp().length;
        length(x.logp().length, n, "logp");
        length(x.advantages().length, n, "advantages");
        if (x.refLogp() != null) length(x.refLogp().length, n, "refLogp");
        if (x.valid() != null) length(x.valid().length, n, "valid");
        if (gradLogp != null) length(gradLogp.length, n, "gradLogp");
        config(config, x.refLogp() != null);
        offsets(x.seqOffsets(), n);
        finiteWhereValid(x.logp(), x.valid(), "logp");
        finiteWhereValid(x.oldLogp(), x.valid(), "oldLogp");
        finiteWhereValid(x.advantages(), x.valid(), "advantages");
        finiteWhereValid(x.refLogp(), x.valid(), "refLogp");
    }

    public static void logitsRows(float[] logits, int vocab, int[] targets, boolean[] valid, String logitsName) {
        notNull(logits, logitsName);
        notNull(targets, "targets");
        require(vocab > 0, "vocab must be > 0, got " + vocab);
        int n = targets.length;
        length(logits.length, (long) n * vocab, logitsName + " (N × V)");
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
    public static void tokenLogprobsBackward(float[] logits, int vocab, int[] targets, float temperature, float[] gradLogp,
            float[] gradLogits) {
        temperature(temperature);
        notNull(logits, "logits");
        notNull(targets, "targets");
        require(vocab > 0, "vocab must be > 0, got " + vocab);
        int n = targets.length;
        length(logits.length, (long) n * vocab, "logits (N × V)");
        notNull(gradLogp, "gradLogp");
        length(gradLogp.length, n, "gradLogp");
        notNull(gradLogits, "gradLogits");
        length(gradLogits.length, (long) n * vocab, "gradLogits");
        finiteWhereValid(gradLogp, null, "gradLogp");
        boolean[] read = new boolean[n];
        for (int i = 0; i < n; i++) read[i] = gradLogp[i] != 0;
        logitsRows(logits, vocab, targets, read, "logits");
    }

    public static void logits(PolicyLossConfig config, LogitsBatch x, float[] gradLogits, float[] logpOut,
            float[] entropyOut) {
        notNull(x, "batch");
        temperature(x.temperature());
        notNull(x.oldLogp(), "oldLogp");
        notNull(x.advantages(), "advantages");
        int n = x.numTokens();
        notNull(x.targets(), "targets");
        length(x.oldLogp().length, n, "oldLogp");
        length(x.advantages().length, n, "advantages");
        if (x.refLogp() != null) length(x.refLogp().length, n, "refLogp");
        if (x.valid() != null) length(x.valid().length, n, "valid");
        if (gradLogits != null) length(gradLogits.length, (long) n * x.vocab(), "gradLogits");
        if (logpOut != null) length(logpOut.length, n, "logpOut");
        if (entropyOut != null) length(entropyOut.length, n, "entropyOut");
        config(config, x.refLogp() != null);
        offsets(x.seqOffsets(), n);
        logitsRows(x.logits(), x.vocab(), x.targets(), x.valid(), "logits");
        finiteWhereValid(x.oldLogp(), x.valid(), "oldLogp");
        finiteWhereValid(x.advantages(), x.valid(), "advantages");
        finiteWhereValid(x.refLogp(), x.valid(), "refLogp");
    }
}
