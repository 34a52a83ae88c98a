package io.github.spo4j.spo;

/** The RL algorithms spo4j runs, each with the reference code's defaults in {@link AlgorithmConfig#of}. */
public enum Algorithm {
    /** SPO with cutpoint segments and Monte-Carlo chain advantages (SPO_SPEC §1a, §2). */
    SPO_CHAIN,
    /** SPO with fixed-length segments sampled as a tree, tree advantages on edges (SPO_SPEC §1b, §3). */
    SPO_TREE,
    /** GRPO: one advantage per response, (R − mean)/(std + eps) over the question's group, no mask. */
    GRPO,
    /** GRPO with SPO's probability mask in the loss (the ablation of SPO_SPEC §7). */
    GRPO_MASK,
    /** VinePPO: newline steps, Monte-Carlo step values (SPO_SPEC §8), no mask. */
    VINEPPO,
    /** RLOO: R − the mean of the group's other rewards, no mask. */
    RLOO
}
