/**
 * The command line ({@code spo4j}): picocli commands for SFT, training, evaluation, the credit audit and the
 * comparison of algorithms, over the {@code train} layer.
 */
package io.github.spo4j.cli;
