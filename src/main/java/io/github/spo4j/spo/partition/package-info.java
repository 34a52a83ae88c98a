/**
 * Segment partitions of a response (SPO_SPEC §1): fixed token count, equal split, probability cutpoints, newline
 * steps.
 */
package io.github.spo4j.spo.partition;
