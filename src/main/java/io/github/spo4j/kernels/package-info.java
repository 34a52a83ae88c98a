/**
 * The kernel layer: Java facades over the native C++/CUDA kernels, their pure-Java references, and
 * {@link io.github.spo4j.kernels.Backend} selection. Knows nothing of models or of SPO itself.
 */
package io.github.spo4j.kernels;
