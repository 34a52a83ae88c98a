/**
 * Generation through the shared KV cache against the same generation with nothing shared (tree and chain samplers
 * on the tiny model): throughput and peak KV bytes, for the quick side-by-side and the results CSV.
 */
package io.github.spo4j.bench.rollout;
