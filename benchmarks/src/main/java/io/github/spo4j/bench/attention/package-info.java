/** Prefix attention: its JMH benchmark (paged and shared-prefix decode) and its cases in the quick side-by-side. */
package io.github.spo4j.bench.attention;
