/**
 * The prefix attention op ({@code prefix_attention}): decode and prefill attention over KV-cache block tables that
 * reads a prefix shared by many branches once (prefix/suffix split merged by log-sum-exp).
 */
package io.github.spo4j.kernels.attention;
