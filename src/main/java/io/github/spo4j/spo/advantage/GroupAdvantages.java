package io.github.spo4j.spo.advantage;

import io.github.spo4j.spo.SpoArguments;

/**
 * Outcome advantages of the group baselines that SPO is compared against, for G responses to one question
 * with rewards R_1..R_G (μ their mean):
 *
 * <pre>
 *   GRPO:     A_i = (R_i − μ) / (σ + ε)         σ population or Bessel, see {@link StdEstimator}
 *   Dr. GRPO: A_i = R_i − μ                     (no std division; Liu et al. 2025)
 *   RLOO:     A_i = R_i − (Σ_{j≠i} R_j) / (G − 1)  = G/(G − 1) · (R_i − μ)
 * </pre>
 *
 * A group of one response has no baseline: its advantage is 0 under all three (where verl, for instance,
 * gives GRPO's lone response its raw reward). A GRPO group whose σ + ε is 0 (equal rewards, ε = 0) gets 0.
 * Arithmetic is in double; results are rounded to float.
 *
 * <p>Each method has a one-group form and a batched form over ragged groups: rewards [B] with
 * {@code groupOffsets} [G+1] (0 first, strictly increasing, B last), group g being the responses
 * [groupOffsets[g], groupOffsets[g+1]).
 */
public final class GroupAdvantages {
    /** An ε for GRPO's denominator: verl's default ({@code compute_grpo_outcome_advantage}); TRL uses 1e-4. */
    public static final float DEFAULT_EPS = 1e-6f;

    /** Which standard deviation GRPO divides by. */
    public enum StdEstimator {
        /** σ² = Σ (R_i − μ)² / G (numpy's {@code np.std}; SPO-tree's {@code 'grpo'} node mode). */
        POPULATION,
        /**
         * σ² = Σ (R_i − μ)² / (G − 1): what the common GRPO implementations use, as they call
         * {@code torch.std}, Bessel-corrected by default (TRL's {@code GRPOTrainer}, verl's
         * {@code compute_grpo_outcome_advantage}, OpenRLHF's group norm).
         */
        BESSEL
    }

    private GroupAdvantages() {}

    /**
     * GRPO advantages of one group.
     *
     * @param rewards [G] finite, G &gt;= 1
     * @param std     which σ
     * @param eps     ε &gt;= 0 added to σ
     * @throws IllegalArgumentException naming the argument at fault
     */
    public static float[] grpo(float[] rewards, StdEstimator std, float eps) {
        return grpo(rewards, oneGroup(rewards), std, eps);
    }

    /** GRPO advantages of ragged groups; see the class comment for {@code groupOffsets}. */
    public static float[] grpo(float[] rewards, int[] groupOffsets, StdEstimator std, float eps) {
        check(rewards, groupOffsets);
        SpoArguments.notNull(std, "std");
        SpoArguments.require(Float.isFinite(eps) && eps >= 0, "eps must be finite and >= 0, got " + eps);
        float[] out = new float[rewards.length];
        for (int g = 0; g + 1 < groupOffsets.length; g++) {
            int begin = groupOffsets[g], end = groupOffsets[g + 1], size = end - begin;
            if (size == 1) continue;
            double mean = mean(rewards, begin, end);
            double squares = 0;
            for (int i = begin; i < end; i++) squares += (rewards[i] - mean) * (rewards[i] - mean);
            double sigma = Math.sqrt(squares / (std == StdEstimator.BESSEL ? size - 1 : size));
            double denominator = sigma + eps;
            for (int i = begin; i < end; i++) {
                out[i] = denominator == 0 ? 0f : (float) ((rewards[i] - mean) / denominator);
            }
        }
        return out;
    }

    /** Dr. GRPO advantages R_i − μ of one group. */
    public static float[] drGrpo(float[] rewards) {
        return drGrpo(rewards, oneGroup(rewards));
    }

    /** Dr. GRPO advantages of ragged groups. */
    public static float[] drGrpo(float[] rewards, int[] groupOffsets) {
        check(rewards, groupOffsets);
        float[] out = new float[rewards.length];
        for (int g = 0; g + 1 < groupOffsets.length; g++) {
            int begin = groupOffsets[g], end = groupOffsets[g + 1];
            double mean = mean(rewards, begin, end);
            for (int i = begin; i < end; i++) out[i] = (float) (rewards[i] - mean);
        }
        return out;
    }

    /** RLOO advantages of one group: each reward minus the mean of the others. */
    public static float[] rloo(float[] rewards) {
        return rloo(rewards, oneGroup(rewards));
    }

    /** RLOO advantages of ragged groups. */
    public static float[] rloo(float[] rewards, int[] groupOffsets) {
        check(rewards, groupOffsets);
        float[] out = new float[rewards.length];
        for (int g = 0; g + 1 < groupOffsets.length; g++) {
            int begin = groupOffsets[g], end = groupOffsets[g + 1], size = end - begin;
            if (size == 1) continue;
            double sum = 0;
            for (int i = begin; i < end; i++) sum += rewards[i];
            for (int i = begin; i < end; i++) out[i] = (float) (rewards[i] - (sum - rewards[i]) / (size - 1));
        }
        return out;
    }

    private static double mean(float[] rewards, int begin, int end) {
        double sum = 0;
        for (int i = begin; i < end; i++) sum += rewards[i];
        return sum / (end - begin);
    }

    private static int[] oneGroup(float[] rewards) {
        SpoArguments.notNull(rewards, "rewards");
        return new int[] {0, rewards.length};
    }

    private static void check(float[] rewards, int[] groupOffsets) {
        SpoArguments.finite(rewards, "rewards");
        SpoArguments.require(rewards.length > 0, "rewards must not be empty");
        SpoArguments.groupOffsets(groupOffsets, rewards.length, "groupOffsets");
    }
}
