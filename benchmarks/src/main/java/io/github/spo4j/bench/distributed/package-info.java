/**
 * Data-parallel training's costs: torch.distributed's Gloo all-reduce between worker JVMs on this machine (time and
 * bandwidth by message size), a training iteration's split at 1 and N ranks against two independent runs at once, and
 * the scaling projection on paper built from them.
 */
package io.github.spo4j.bench.distributed;
