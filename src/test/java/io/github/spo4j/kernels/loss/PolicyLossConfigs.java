package io.github.spo4j.kernels.loss;

import java.util.ArrayList;
import java.util.List;

/** Every combination of the loss options that changes the code path, for parity tests. */
final class PolicyLossConfigs {
    private PolicyLossConfigs() {}

    record Case(String name, PolicyLossConfig config, boolean withRef) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Case> all() {
        List<Case> cases = new ArrayList<>();
        for (boolean whiten : new boolean[] {false, true}) {
            for (float dual : new float[] {0f, 3f}) {
                for (float rho : new float[] {0.9f, 1f}) {
                    for (float maxRatio : new float[] {0f, 1f}) { // 1 skips most random batches (mean r ≈ 1.05)
                        for (Aggregation pg : Aggregation.values()) {
                            PolicyLossConfig.Builder b = PolicyLossConfig.builder()
                                    .whiten(whiten)
                                    .dualClipC(dual)
                                    .rho(rho)
                                    .maxMeanRatio(maxRatio)
                                    .pgAggregation(pg)
                                    .pgNorm(123f)
                                    .epsHigh(0.28f);
                            String base = String.format(
                                    "whiten=%s dual=%s rho=%s maxRatio=%s pg=%s", whiten, dual, rho, maxRatio, pg);
                            cases.add(new Case(base + " noKL", b.beta(0f).build(), false));
                            for (KlEstimator kl : KlEstimator.values()) {
                                for (Aggregation klAgg : Aggregation.values()) {
                                    cases.add(new Case(
                                            base + " kl=" + kl + "/" + klAgg,
                                            b.beta(0.1f)
                                                    .klEstimator(kl)
                                                    .klAggregation(klAgg)
                                                    .klNorm(77f)
                                                    .build(),
                                            true));
                                }
                            }
                        }
                    }
                }
            }
        }
        return cases;
    }

    /** A smaller set for the logits entry: SPO, GRPO and one of each option. */
    static List<Case> few() {
        return List.of(
                new Case("spo", PolicyLossConfig.spo(), true),
                new Case("grpo", PolicyLossConfig.grpo(), true),
                new Case(
                        "noKL-nowhiten",
                        PolicyLossConfig.builder().beta(0f).whiten(false).build(),
                        false),
                new Case(
                        "dual-k2-seqmeantokenmean",
                        PolicyLossConfig.builder()
                                .dualClipC(3f)
                                .klEstimator(KlEstimator.K2)
                                .pgAggregation(Aggregation.SEQ_MEAN_TOKEN_MEAN)
                                .klAggregation(Aggregation.SEQ_MEAN_TOKEN_MEAN)
                                .build(),
                        true),
                new Case(
                        "drgrpo-k1-skip",
                        PolicyLossConfig.builder()
                                .klEstimator(KlEstimator.K1)
                                .pgAggregation(Aggregation.CONSTANT_NORM)
                                .pgNorm(64f)
                                .maxMeanRatio(1f)
                                .build(),
                        true));
    }
}
