/**
 * The paged KV cache op ({@code kv_cache}): a pool of fixed-size blocks with reference counts, forks that share a
 * prefix's blocks and copy only the partial tail block, and the native block write and copy kernels.
 */
package io.github.spo4j.kernels.kv;
