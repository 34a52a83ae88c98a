/**
 * The training side of one RL iteration on the built-in model: the no-grad log-prob forward (π_old's and the
 * reference's) and the training forward and backward, over GRPO groups and SPO-tree trees at the shapes;
 * time, tokens processed against unique tokens, and peak resident memory.
 */
package io.github.spo4j.bench.training;
