/** The sampler: its JMH benchmark and its case in the quick side-by-side. */
package io.github.spo4j.bench.sampler;
