/**
 * Training: the trainer (one iteration of SPO_SPEC §0 per algorithm; sampling and advantages by one episode source
 * per algorithm family), SFT, evaluation, the credit audit, run configuration and checkpointed runs.
 */
package io.github.spo4j.train;
