/**
 * SPO-tree's on-policy replay buffer (SPO_SPEC §3): tree edges kept with their generation-time log-probs for a few
 * iterations, sampled per question into each iteration's batch.
 */
package io.github.spo4j.spo.replay;
