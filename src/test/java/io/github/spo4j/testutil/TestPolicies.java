package io.github.spo4j.testutil;

import io.github.spo4j.model.ModelConfig;
import io.github.spo4j.model.Policy;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Random policies whose every part matters. At transformers' init (std 0.02) attention logits are ~1e-3, so
 * attention is nearly uniform and a wrong position or a wrong cache row would hardly move the output. Here the
 * projection weights are scaled so that attention is sharp (scores of order 1), and biases and norm weights are
 * random instead of 0 and 1.
 */
public final class TestPolicies {
    private TestPolicies() {}

    public static Policy sharp(ModelConfig config, long seed) {
        Policy p = Policy.random(config, seed);
        SplittableRandom rng = new SplittableRandom(seed ^ 0x5DEECE66DL);
        try (PointerScope s = new PointerScope();
                NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : p.namedParameters().entrySet()) {
                String name = e.getKey();
                Tensor t = e.getValue();
                if (name.endsWith(".bias") || name.endsWith("norm.weight")) {
                    float[] noise = new float[(int) t.numel()];
                    for (int i = 0; i < noise.length; i++) noise[i] = (float) (rng.nextGaussian() * 0.2);
                    t.add_(torch.from_blob(
                                    new FloatPointer(noise), t.sizes().vec().get(), new TensorOptions(ScalarType.Float))
                            .clone());
                } else if (name.contains("self_attn")) {
                    t.mul_(new Scalar(15.0 / Math.sqrt(config.hiddenSize() / 16.0)));
                } else {
                    t.mul_(new Scalar(5.0));
                }
            }
        }
        return p;
    }
}
