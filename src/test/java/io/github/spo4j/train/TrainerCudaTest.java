package io.github.spo4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.model.Device;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.Tensors;
import io.github.spo4j.spo.Algorithm;
import io.github.spo4j.testutil.GpuRequirements;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A short run on CUDA against the same run on the CPU, from the same base: the first iteration samples the same
 * episodes (the logits agree to fp32 rounding and the sampler's draw is keyed, not sequential), and the runs stay
 * within tolerance after. Skipped without libtorch's CUDA build and a GPU.
 */
@Tag("gpu")
class TrainerCudaTest {
    private static TinyArithmetic tiny;

    @BeforeAll
    static void base() {
        GpuRequirements.assumeTorchCuda();
        tiny = TinyArithmetic.create();
    }

    @AfterAll
    static void close() {
        if (tiny != null) tiny.close();
    }

    @ParameterizedTest
    @EnumSource(
            value = Algorithm.class,
            names = {"GRPO", "SPO_TREE"})
    void aShortRunOnCudaFollowsTheCpuRun(Algorithm a) {
        TrainConfig config = TrainerTest.tiny(a).with("iterations", "4");
        List<Trainer.IterationStats> cpu = new ArrayList<>(), gpu = new ArrayList<>();
        float[] cpuWeights, gpuWeights;
        try (Trainer t = new Trainer(tiny.task(), tiny.base(), config)) {
            while (!t.finished()) cpu.add(t.step());
            cpuWeights = Tensors.toFloats(
                    t.policy().namedParameters().values().iterator().next());
        }
        try (Policy base = Policy.random(tiny.base().config(), 0, Device.cuda(0))) {
            base.copyFrom(tiny.base());
            try (Trainer t = new Trainer(tiny.task(), base, config)) {
                while (!t.finished()) gpu.add(t.step());
                assertEquals(Device.cuda(0), t.policy().device());
                gpuWeights = Tensors.toFloats(
                        t.policy().namedParameters().values().iterator().next());
            }
        }
        assertEquals(cpu.get(0).iterationTokens(), gpu.get(0).iterationTokens(), "the first iteration's tokens");
        assertEquals(cpu.get(0).meanReward(), gpu.get(0).meanReward(), 1e-12, "the first iteration's rewards");
        for (int i = 0; i < cpu.size(); i++) {
            Trainer.IterationStats c = cpu.get(i), g = gpu.get(i);
            assertTrue(Double.isFinite(g.loss()) && Double.isFinite(g.gradNorm()), g.toString());
            assertEquals(c.meanReward(), g.meanReward(), 0.15, "iteration " + i + " mean reward");
        }
        double worst = 0;
        for (int i = 0; i < cpuWeights.length; i++) worst = Math.max(worst, Math.abs(cpuWeights[i] - gpuWeights[i]));
        assertTrue(worst < 1e-2, "embedding weights differ by up to " + worst + " after the runs");
    }
}
