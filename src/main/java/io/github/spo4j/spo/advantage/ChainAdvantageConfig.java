package io.github.spo4j.spo.advantage;

import io.github.spo4j.spo.SpoArguments;

/**
 * Settings of {@link ChainAdvantages}.
 *
 * @param rollouts            N &gt; 0, Monte-Carlo rollouts per boundary state; 9 for Rho-1.1B/GSM8K, 4 in the Qwen
 *                            chain configs (SPO_SPEC §2)
 * @param zeroConfidentTokens set A_t = 0 for every token with p_t &gt; rho after the segment advantages are
 *                            broadcast, as the reference's chain generator does even with the probability mask off
 *                            (SPO_SPEC §2 "generator-side mask", §10.2)
 * @param rho                 the threshold of that zeroing, in (0, 1]
 * @param tieRollouts         M &gt;= 0, rollouts added to the states around segments whose two values tie after the
 *                            first N (not in the paper; 0, the reference, adds none; see {@link ChainAdvantages})
 */
public record ChainAdvantageConfig(int rollouts, boolean zeroConfidentTokens, double rho, int tieRollouts) {

    /** N of the Rho-1.1B GSM8K chain configuration ({@code 9rolls.jsonnet}). */
    public static final int DEFAULT_ROLLOUTS = 9;
    /** The reference's hard-coded 0.9. */
    public static final double DEFAULT_RHO = 0.9;

    public ChainAdvantageConfig {
        SpoArguments.positive(rollouts, "rollouts");
        SpoArguments.probabilityThreshold(rho, "rho");
        SpoArguments.require(tieRollouts >= 0, "tieRollouts must be >= 0, got " + tieRollouts);
    }

    /** The reference's settings: no tie refinement. */
    public ChainAdvantageConfig(int rollouts, boolean zeroConfidentTokens, double rho) {
        this(rollouts, zeroConfidentTokens, rho, 0);
    }

    /** N = 9, zeroing on, ρ = 0.9: the reference's SPO-chain. */
    public static ChainAdvantageConfig defaults() {
        return new ChainAdvantageConfig(DEFAULT_ROLLOUTS, true, DEFAULT_RHO);
    }

    public ChainAdvantageConfig withRollouts(int n) {
        return new ChainAdvantageConfig(n, zeroConfidentTokens, rho, tieRollouts);
    }

    public ChainAdvantageConfig withZeroConfidentTokens(boolean zero) {
        return new ChainAdvantageConfig(rollouts, zero, rho, tieRollouts);
    }

    public ChainAdvantageConfig withTieRollouts(int m) {
        return new ChainAdvantageConfig(rollouts, zeroConfidentTokens, rho, m);
    }
}
