/**
 * The data SPO works on: sampled trajectories with their per-token log-probs, segments, Monte-Carlo states
 * (state prefixes) and sampling trees of segments.
 */
package io.github.spo4j.spo.data;
