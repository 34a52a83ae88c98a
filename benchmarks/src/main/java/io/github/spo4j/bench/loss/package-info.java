/**
 * The policy loss: JMH benchmarks of the per-token and logits entries, the logits entry's peak memory, and its cases
 * in the quick side-by-side.
 */
package io.github.spo4j.bench.loss;
