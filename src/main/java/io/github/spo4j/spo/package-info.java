/**
 * The algorithmic core of SPO over plain data (SPO_SPEC §1–§4, §8): segment partitions, Monte-Carlo
 * segment advantages (chain, tree), group baselines (GRPO, RLOO), VinePPO step advantages, micro-batch
 * whitening, the tree-edge replay buffer. No libtorch here; the tree values run on the
 * {@link io.github.spo4j.kernels.TreeBackup} kernel facade, and the probability mask and whitening are the
 * loss kernel's own definitions ({@link io.github.spo4j.kernels.ProbabilityMask},
 * {@link io.github.spo4j.kernels.AdvantageWhitening}).
 */
package io.github.spo4j.spo;
