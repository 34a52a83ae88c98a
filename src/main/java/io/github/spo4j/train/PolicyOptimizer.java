package io.github.spo4j.train;

import io.github.spo4j.model.Policy;
import io.github.spo4j.spo.AlgorithmConfig;
import java.io.IOException;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * AdamW over a policy's parameters with SPO's schedule and clipping (SPO_SPEC §4): a linear warmup over the first
 * {@code warmupFraction} of training, then a linear decay to 0, both in terms of progress p ∈ [0, 1]:
 *
 * <pre>
 *   lr(p) = peak · p / w              for p &lt; w
 *         = peak · (1 − p) / (1 − w)  otherwise
 * </pre>
 *
 * A step averages the gradients accumulated over its micro-batches (DeepSpeed's gradient accumulation), clips their
 * global norm, and applies AdamW.
 */
final class PolicyOptimizer implements AutoCloseable {
    private final TensorVector parameters;
    private final AdamW adamW;
    private final AlgorithmConfig.Optimizer settings;

    PolicyOptimizer(Policy policy, AlgorithmConfig.Optimizer settings) {
        this.settings = settings;
        parameters = policy.parameterVector();
        AdamWOptions options = new AdamWOptions(settings.learningRate());
        options.weight_decay().put(settings.weightDecay());
        adamW = new AdamW(parameters, options);
    }

    /** The learning rate at progress p. */
    static double learningRate(AlgorithmConfig.Optimizer o, double progress) {
        double p = Math.min(1, Math.max(0, progress));
        double w = o.warmupFraction();
        return p < w ? o.learningRate() * p / w : o.learningRate() * (1 - p) / (1 - w);
    }

    void zeroGrad() {
        adamW.zero_grad();
    }

    /**
     * Averages the accumulated gradients over {@code microBatches}, clips, and steps at the learning rate of
     * {@code progress}.
     *
     * @return the gradient's global norm before clipping
     */
    double step(int microBatches, double progress) {
        double norm;
        try (PointerScope scope = new PointerScope()) {
            if (microBatches > 1) {
                Scalar scale = new Scalar(1.0 / microBatches);
                for (long i = 0; i < parameters.size(); i++) {
                    Tensor g = parameters.get(i).grad();
                    if (g.defined()) g.mul_(scale);
                }
            }
            norm = torch.clip_grad_norm_(parameters, settings.gradientClip());
            adamW.param_groups().get(0).options().set_lr(learningRate(settings, progress));
            adamW.step();
        }
        return norm;
    }

    void save(Path file) throws IOException {
        try (PointerScope scope = new PointerScope()) {
            OutputArchive archive = new OutputArchive();
            adamW.save(archive);
            archive.save_to(file.toString());
        } catch (RuntimeException e) {
            throw new IOException("could not write the optimizer state to " + file + ": " + e.getMessage(), e);
        }
    }

    void load(Path file) throws IOException {
        try (PointerScope scope = new PointerScope()) {
            InputArchive archive = new InputArchive();
            archive.load_from(file.toString());
            adamW.load(archive);
        } catch (RuntimeException e) {
            throw new IOException("could not read the optimizer state from " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        adamW.close();
    }
}
