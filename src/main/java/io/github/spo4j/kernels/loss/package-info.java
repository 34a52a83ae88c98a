/**
 * The policy loss op ({@code policy_loss} in C++ and CUDA): SPO's masked clipped-ratio loss with its gradient,
 * fused from per-token log-probs or from logits, and the token log-probs of logits with their backward. The math
 * is on {@link io.github.spo4j.kernels.loss.PolicyLossReference}; {@link io.github.spo4j.kernels.loss.PolicyLoss}
 * runs it on a {@link io.github.spo4j.kernels.Backend}.
 */
package io.github.spo4j.kernels.loss;
