package io.github.spo4j.train;

import io.github.spo4j.kernels.NativeCpu;
import io.github.spo4j.model.Policy;
import org.bytedeco.openblas.presets.openblas_nolapack;
import org.bytedeco.pytorch.global.torch;

/**
 * Thread counts per phase, by the policy's size. libtorch's intra-op pool, OpenBLAS's pool and our native pool each
 * start their own workers; on small models their wake-ups and spinning cost more than the split work saves. Measured
 * in the RL loop on 2 cores (README, "Where an iteration's time goes"): at 0.08M parameters a run with everything on
 * one thread took 23% less wall time than with every pool on both cores, and half the CPU time; at 2.4M, sampling on
 * one thread took 37% less time while the training forward and backward took 22% less with BLAS on both cores; at
 * 14M sampling was even and BLAS on both cores saved 31%.
 * <ul>
 *   <li>sampling (many small products, our attention and sampler kernels): torch and spo4j on all cores from
 *       {@value #SAMPLING_PARALLEL_PARAMETERS} parameters, else one; BLAS on one;
 *   <li>training (a few large products): BLAS on all cores from {@value #TRAINING_PARALLEL_PARAMETERS} parameters,
 *       else one; torch on one.
 * </ul>
 * {@code -Dspo4j.threads.sampling=N} and {@code -Dspo4j.threads.training=N} override the choice. Thread counts
 * change floating-point summation order, so a run is reproducible bit for bit at the same counts.
 */
final class Threads {
    static final long SAMPLING_PARALLEL_PARAMETERS = 10_000_000;
    static final long TRAINING_PARALLEL_PARAMETERS = 500_000;

    private Threads() {}

    /**
     * This process's cores: the machine's, shared among the ranks of a data-parallel run on it (torchrun's
     * {@code LOCAL_WORLD_SIZE}, which {@code --nproc} sets too).
     */
    static int cores() {
        int local = 1;
        String v = System.getenv("LOCAL_WORLD_SIZE");
        if (v != null) {
            try {
                local = Math.max(1, Integer.parseInt(v.strip()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("LOCAL_WORLD_SIZE must be an integer, got \"" + v + "\"");
            }
        }
        return Math.max(1, Runtime.getRuntime().availableProcessors() / local);
    }

    /** Threads for sampling {@code policy}. */
    static int samplingThreads(Policy policy) {
        return override("spo4j.threads.sampling", policy.parameterCount() >= SAMPLING_PARALLEL_PARAMETERS);
    }

    /** BLAS threads for training {@code policy}. */
    static int trainingThreads(Policy policy) {
        return override("spo4j.threads.training", policy.parameterCount() >= TRAINING_PARALLEL_PARAMETERS);
    }

    static void sampling(Policy policy) {
        int n = samplingThreads(policy);
        torch.set_num_threads(n);
        NativeCpu.setThreads(n);
        blas(1);
    }

    static void training(Policy policy) {
        torch.set_num_threads(1);
        blas(trainingThreads(policy));
    }

    /** The BLAS thread count this class last set; -1 before the first. */
    private static int blasThreads = -1;

    /**
     * Sets OpenBLAS's threads where they change: the preset's {@code blas_set_num_threads} looks its native symbol up
     * on every call (about 0.4 ms, a few times per iteration).
     */
    private static synchronized void blas(int n) {
        if (n == blasThreads) return;
        openblas_nolapack.blas_set_num_threads(n);
        blasThreads = n;
    }

    private static int override(String property, boolean parallel) {
        String v = System.getProperty(property);
        if (v == null) return parallel ? cores() : 1;
        try {
            int n = Integer.parseInt(v.strip());
            if (n >= 1) return n;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("-D" + property + " must be a thread count >= 1, got \"" + v + "\"");
    }
}
