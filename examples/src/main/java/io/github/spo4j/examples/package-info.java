/**
 * spo4j as the backend of an RL loop that is not spo4j's: {@link io.github.spo4j.examples.SpoBackendExample} trains
 * its own {@link io.github.spo4j.examples.TabularPolicy} on its own {@link io.github.spo4j.examples.CountingTask} with
 * spo4j's segment advantages, tree backup and fused policy loss.
 */
package io.github.spo4j.examples;
