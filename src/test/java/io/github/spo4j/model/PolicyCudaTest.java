package io.github.spo4j.model;

import static io.github.spo4j.testutil.Close.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.loss.PolicyLossConfig;
import io.github.spo4j.kernels.loss.PolicyLossStats;
import io.github.spo4j.testutil.GpuRequirements;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch_cuda;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The policy on CUDA against the same policy on the CPU: training log-probs (plain and packed), the fused loss's
 * gradients, and generation through a CUDA KV pool. Skipped without libtorch's CUDA build and a GPU.
 */
@Tag("gpu")
class PolicyCudaTest {
    private static final float T = PolicyTrainingForwardTest.T;

    @BeforeEach
    void requireCuda() {
        GpuRequirements.assumeTorchCuda();
    }

    @Test
    void parametersMoveAndStayOnTheDevice() {
        try (Policy p = Policy.random(PolicyTestModels.llama(), 5, Device.cuda(0))) {
            assertEquals(Device.cuda(0), p.device());
            for (Tensor t : p.namedParameters().values()) assertTrue(t.is_cuda());
            try (KvCache pool = p.createKvCache(4, 64)) {
                assertEquals(Backend.CUDA, pool.backend());
                assertEquals(0, pool.cudaDevice());
            }
        }
    }

    /** A pool made for one GPU is refused by a policy on another (its storage is not that device's memory). */
    @Test
    void aPoolFromAnotherGpuIsRefused() {
        assumeTrue(Device.cudaDeviceCount() >= 2, "needs two GPUs");
        try (Policy p0 = Policy.random(PolicyTestModels.llama(), 5, Device.cuda(0));
                Policy p1 = Policy.random(PolicyTestModels.llama(), 5, Device.cuda(1));
                KvCache pool1 = p1.createKvCache(4, 64)) {
            assertEquals(1, pool1.cudaDevice());
            int seq = pool1.newSequence();
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class, () -> p0.prefill(pool1, new int[] {seq}, new int[][] {{1, 2, 3}}));
            assertTrue(e.getMessage().startsWith("pool lives on cuda:1 but the policy runs on cuda:0"), e.getMessage());
        }
    }

    @Test
    void logprobsAndLossGradientsMatchTheCpu() {
        for (ModelConfig c : new ModelConfig[] {PolicyTestModels.llama(), PolicyTestModels.qwen2()}) {
            try (Policy cpu = Policy.random(c, 31);
                    Policy gpu = Policy.random(c, 31, Device.cuda(0));
                    PointerScope s = new PointerScope()) {
                TargetBatch b = PolicyTrainingForwardTest.batch(c.vocabSize(), 8);
                for (boolean packed : new boolean[] {false, true}) {
                    float[] expected, actual;
                    try (TrainingForward f = packed ? cpu.forwardPacked(b, T) : cpu.forward(b, T)) {
                        expected = f.logpArray();
                    }
                    try (TrainingForward f = packed ? gpu.forwardPacked(b, T) : gpu.forward(b, T)) {
                        actual = f.logpArray();
                    }
                    assertAllClose(c.architecture() + " logp, packed " + packed, expected, actual, 1e-4, 1e-4);
                }
                int n = b.numTargets();
                SplittableRandom rng = new SplittableRandom(3);
                float[] old = new float[n], adv = new float[n];
                try (TrainingForward f = cpu.forward(b, T)) {
                    float[] lp = f.logpArray();
                    for (int i = 0; i < n; i++) {
                        old[i] = lp[i] + (float) (0.1 * rng.nextGaussian());
                        adv[i] = (float) rng.nextGaussian();
                    }
                }
                PolicyLossConfig config = PolicyLossConfig.spo();
                PolicyLossStats onCpu, onGpu;
                try (TrainingForward f = cpu.forwardPacked(b, T)) {
                    onCpu = f.policyLossBackward(config, old, old, adv, null);
                }
                try (TrainingForward f = gpu.forwardPacked(b, T)) {
                    onGpu = f.policyLossBackward(config, old, old, adv, null);
                }
                assertEquals(onCpu.loss(), onGpu.loss(), 1e-4 * (1 + Math.abs(onCpu.loss())));
                Map<String, float[]> expected = PolicyTrainingForwardTest.gradients(cpu);
                Map<String, float[]> actual = PolicyTrainingForwardTest.gradients(gpu);
                for (String name : expected.keySet()) {
                    assertAllClose(name + " grad", expected.get(name), actual.get(name), 1e-5, 1e-3);
                }
            }
        }
    }

    /**
     * With libtorch's current stream set to a pool stream (not the default one), the kernels run on it, ordered with
     * libtorch's work: the same log-probs, loss and gradients as on the default stream (to cuBLAS's rounding; a kernel
     * on the wrong stream would read half-written inputs).
     */
    @Test
    void aNonDefaultCurrentStreamGivesTheSameResults() {
        ModelConfig c = PolicyTestModels.qwen2();
        try (Policy gpu = Policy.random(c, 35, Device.cuda(0));
                PointerScope s = new PointerScope()) {
            TargetBatch b = PolicyTrainingForwardTest.batch(c.vocabSize(), 9);
            int n = b.numTargets();
            float[] old = new float[n], adv = new float[n];
            java.util.Arrays.fill(adv, 0.5f);
            try (TrainingForward f = gpu.forwardPacked(b, T)) {
                old = f.logpArray();
            }
            float[][] logp = new float[2][];
            double[] loss = new double[2];
            java.util.List<Map<String, float[]>> grads = new java.util.ArrayList<>();
            org.bytedeco.pytorch.cuda.CUDAStream previous = torch_cuda.getCurrentCUDAStream((byte) 0);
            for (int run = 0; run < 2; run++) {
                if (run == 1) {
                    org.bytedeco.pytorch.cuda.CUDAStream pool = torch_cuda.getStreamFromPool(false, (byte) 0);
                    torch_cuda.setCurrentCUDAStream(pool);
                    try (io.github.spo4j.kernels.engine.KernelCall call =
                            new io.github.spo4j.kernels.engine.KernelCall(Backend.CUDA)) {
                        assertEquals(
                                pool.stream().address(), call.stream().address(), "kernels get the current stream");
                    }
                }
                try {
                    PolicyTrainingForwardTest.zeroGradients(gpu);
                    try (TrainingForward f = gpu.forwardPacked(b, T)) {
                        logp[run] = f.logpArray();
                        loss[run] = f.policyLossBackward(PolicyLossConfig.spo(), old, old, adv, null)
                                .loss();
                    }
                    grads.add(PolicyTrainingForwardTest.gradients(gpu));
                } finally {
                    torch_cuda.setCurrentCUDAStream(previous);
                }
            }
            org.junit.jupiter.api.Assertions.assertArrayEquals(logp[0], logp[1]);
            assertEquals(loss[0], loss[1]);
            for (String name : grads.get(0).keySet()) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(
                        grads.get(0).get(name), grads.get(1).get(name), name);
            }
        }
    }

    @Test
    void generationThroughACudaPoolMatchesTheCpu() {
        ModelConfig c = PolicyTestModels.llama();
        SplittableRandom rng = new SplittableRandom(12);
        int[][] prompts = {
            PolicyDecodeTest.randomTokens(rng, 5, c.vocabSize()), PolicyDecodeTest.randomTokens(rng, 11, c.vocabSize())
        };
        try (Policy cpu = Policy.random(c, 33);
                Policy gpu = Policy.random(c, 33, Device.cuda(0));
                KvCache cpuPool = cpu.createKvCache(4, 64);
                KvCache gpuPool = gpu.createKvCache(4, 64)) {
            int[] cs = {cpuPool.newSequence(), cpuPool.newSequence()};
            int[] gs = {gpuPool.newSequence(), gpuPool.newSequence()};
            float[][] a = cpu.prefillArray(cpuPool, cs, prompts);
            float[][] g = gpu.prefillArray(gpuPool, gs, prompts);
            for (int step = 0; step < 6; step++) {
                for (int i = 0; i < 2; i++) assertAllClose("step " + step + " row " + i, a[i], g[i], 1e-4, 1e-4);
                int[] next = {step % c.vocabSize(), (3 * step + 1) % c.vocabSize()};
                a = cpu.decodeArray(cpuPool, cs, next);
                g = gpu.decodeArray(gpuPool, gs, next);
            }
        }
    }
}
