/**
 * The algorithmic core of SPO over plain data (SPO_SPEC §1–§4, §8): segment partitions, Monte-Carlo
 * segment advantages (chain, tree), group baselines (GRPO, RLOO), VinePPO step advantages, whitening and the
 * probability mask, the tree-edge replay buffer. No libtorch here; the tree values run on the
 * {@link io.github.spo4j.kernels.TreeBackup} kernel facade.
 */
package io.github.spo4j.spo;
