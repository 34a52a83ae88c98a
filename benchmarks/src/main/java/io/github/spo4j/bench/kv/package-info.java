/** The paged KV cache: the memory of an SPO tree on the pool (bytes, not times). */
package io.github.spo4j.bench.kv;
