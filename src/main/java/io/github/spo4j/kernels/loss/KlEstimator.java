package io.github.spo4j.kernels.loss;

/**
 * Per-token estimators of KL(π_θ ‖ π_ref) from Δ = log π_ref − log π_θ (Schulman's k1/k2/k3).
 */
public enum KlEstimator {
    /** k1 = −Δ (unbiased, can be negative). */
    K1(1),
    /** k2 = Δ²/2. */
    K2(2),
    /** k3 = e^Δ − Δ − 1 (unbiased, non-negative; SPO's). */
    K3(3);

    final int code;

    KlEstimator(int code) {
        this.code = code;
    }
}
