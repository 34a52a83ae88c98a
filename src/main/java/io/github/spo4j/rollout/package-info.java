/**
 * Rollouts: chain and tree samplers that generate continuations of a policy through the shared paged KV cache, and
 * the Monte-Carlo value estimator that implements the SPO core's port with them.
 */
package io.github.spo4j.rollout;
