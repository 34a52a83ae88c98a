/**
 * Segment and token advantages (SPO_SPEC §2–§4, §8): SPO-chain Monte-Carlo segment credit, SPO-tree values from the
 * tree backup, group baselines (GRPO, RLOO), VinePPO step credit and micro-batch whitening. Monte-Carlo values are
 * asked for through the {@link io.github.spo4j.spo.advantage.ValueEstimator} port, which the rollout layer
 * implements.
 */
package io.github.spo4j.spo.advantage;
