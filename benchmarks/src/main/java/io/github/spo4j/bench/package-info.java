/**
 * The benchmarks of spo4j, one package per op as in the library ({@code loss}, {@code tree}, {@code kv},
 * {@code attention}, {@code sampler}, and {@code rollout} for generation), and here what they share: inputs,
 * threads and buffers ({@link io.github.spo4j.bench.BenchSupport}), the results CSV
 * ({@link io.github.spo4j.bench.ResultsCsv}, {@link io.github.spo4j.bench.RecordResults}), the machine's copy
 * bandwidth, and the quick side-by-side of every op ({@link io.github.spo4j.bench.QuickBench}).
 */
package io.github.spo4j.bench;
