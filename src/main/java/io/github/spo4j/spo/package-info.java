/**
 * The algorithmic core of SPO over plain data (SPO_SPEC §1–§4, §8), by concern: {@code data} (trajectories,
 * segments, states, sampling trees), {@code partition} (segment partitions), {@code advantage} (chain and tree
 * segment credit, group baselines, VinePPO, whitening) and {@code replay} (SPO-tree's replay buffer); this package
 * names the algorithms and their knobs. No libtorch here; the tree values run on the
 * {@link io.github.spo4j.kernels.tree.TreeBackup} kernel facade, and the probability mask and whitening are the
 * loss kernel's own definitions ({@link io.github.spo4j.kernels.loss.ProbabilityMask},
 * {@link io.github.spo4j.kernels.loss.AdvantageWhitening}).
 */
package io.github.spo4j.spo;
