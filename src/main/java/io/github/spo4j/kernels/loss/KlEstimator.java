package io.github.spo4j.kernels.loss;

import io.github.spo4j.kernels.nativebind.Spo4jNative;

/**
 * Per-token estimators of KL(π_θ ‖ π_ref) from Δ = log π_ref − log π_θ (Schulman's k1/k2/k3; the codes of
 * {@code SPO4J_KL_*}).
 */
public enum KlEstimator {
    /** k1 = −Δ (unbiased, can be negative). */
    K1(Spo4jNative.SPO4J_KL_K1),
    /** k2 = Δ²/2. */
    K2(Spo4jNative.SPO4J_KL_K2),
    /** k3 = e^Δ − Δ − 1 (unbiased, non-negative; SPO's). */
    K3(Spo4jNative.SPO4J_KL_K3);

    final int code;

    KlEstimator(int code) {
        this.code = code;
    }
}
