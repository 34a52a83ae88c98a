/**
 * torch.distributed's Gloo all-reduce between worker JVMs on this machine (loopback): time and bandwidth by message
 * size, for the data-parallel trainer's gradient exchange.
 */
package io.github.spo4j.bench.distributed;
