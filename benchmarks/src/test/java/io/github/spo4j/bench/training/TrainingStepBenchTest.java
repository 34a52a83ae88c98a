package io.github.spo4j.bench.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.spo.Algorithm;
import io.github.spo4j.train.TrainConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The workloads have the shapes they name, and both phases run on them. */
class TrainingStepBenchTest {
    @Test
    void aSixSixSixTreeRepeatsItsPromptAndUpperSegmentsOncePerEdge() {
        // The example: 6-6-6, M = 30, a 512-token prompt: about 154k tokens processed for 8.2k unique.
        TrainingStepBench.Workload w = TrainingStepBench.Workload.tree(1, new int[] {6, 6, 6}, 30, 512);
        assertEquals(6 + 36 + 216, w.queries().size());
        long processed = 6L * (512 + 30) + 36L * (512 + 60) + 216L * (512 + 90);
        assertEquals(processed, w.batch().totalTokens());
        assertEquals(512 + 258 * 30, w.batch().uniqueTokens());
        TrainingStepBench.Workload g = TrainingStepBench.Workload.grpo(2, 8, 512, 64);
        assertEquals(16L * (512 + 64), g.batch().totalTokens());
        assertEquals(2L * 512 + 16 * 64, g.batch().uniqueTokens());
    }

    @Test
    void quickShapesRunBothPhases() {
        List<TrainingStepBench.Measurement> m = TrainingStepBench.run(
                TrainingStepBench.Config.quick(),
                TrainConfig.preset(Algorithm.SPO_TREE).algorithm().loss(),
                0,
                1);
        assertEquals(2 * 2 * 2, m.size()); // workloads × phases × impls
        for (TrainingStepBench.Measurement x : m) {
            assertTrue(x.medianMs() > 0 && x.uniqueTokens() > 0 && x.uniqueTokens() < x.tokens(), x.toString());
        }
    }
}
