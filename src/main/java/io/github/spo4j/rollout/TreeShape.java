package io.github.spo4j.rollout;

/**
 * The shape of an SPO-tree (SPO_SPEC §3): {@code branching[d]} children for each node of depth d (the prompt has
 * depth 0), segments of {@code segmentTokens} tokens M at every level but the last, which runs to EOS, a stop string
 * or the response limit. "6-6-6" with M tokens is {@code new TreeShape(new int[] {6, 6, 6}, M)}.
 *
 * <p>With {@code branchBelow} ρ_b &gt; 0 (not in the paper) a segment below the last level also ends early, before
 * the first step after its first token where the sampling distribution (the logits at the sampling temperature) gives
 * its most likely token less than ρ_b: the node's children then branch at an uncertain decision and each draws it
 * afresh, so siblings differ first where the policy is unsure, and the backup's sibling comparison credits that
 * decision. M stays the most tokens a segment holds.
 *
 * @param branching     b_0 .. b_{D−1}, each &gt;= 1; D = branching.length &gt;= 1
 * @param segmentTokens M &gt;= 1
 * @param branchBelow   ρ_b in [0, 1]; 0 for fixed M-token segments
 */
public record TreeShape(int[] branching, int segmentTokens, double branchBelow) {
    /** Fixed M-token segments. */
    public TreeShape(int[] branching, int segmentTokens) {
        this(branching, segmentTokens, 0);
    }

    public TreeShape {
        if (branching == null || branching.length == 0) {
            throw new IllegalArgumentException("branching must hold at least one level");
        }
        branching = branching.clone();
        for (int d = 0; d < branching.length; d++) {
            if (branching[d] < 1)
                throw new IllegalArgumentException("branching[" + d + "] must be >= 1, got " + branching[d]);
        }
        if (segmentTokens < 1) throw new IllegalArgumentException("segmentTokens must be >= 1, got " + segmentTokens);
        if (!(branchBelow >= 0 && branchBelow <= 1)) {
            throw new IllegalArgumentException("branchBelow must be in [0, 1], got " + branchBelow);
        }
    }

    /** Parses "6-6-6". */
    public static TreeShape parse(String branching, int segmentTokens) {
        if (branching == null || branching.isBlank()) throw new IllegalArgumentException("branching must not be blank");
        String[] parts = branching.trim().split("-");
        int[] b = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                b[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("branching '" + branching + "' is not of the form 6-6-6");
            }
        }
        return new TreeShape(b, segmentTokens);
    }

    @Override
    public int[] branching() {
        return branching.clone();
    }

    /** D, the number of levels. */
    public int depth() {
        return branching.length;
    }

    /** The most leaves: Π b_d. */
    public long maxLeaves() {
        long n = 1;
        for (int b : branching) n *= b;
        return n;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        for (int d = 0; d < branching.length; d++) s.append(d == 0 ? "" : "-").append(branching[d]);
        return s + " (M = " + segmentTokens + (branchBelow > 0 ? ", branching below p " + branchBelow : "") + ")";
    }
}
