package io.github.spo4j.kernels.sampler;

import io.github.spo4j.kernels.engine.Checks;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Sampling composed from plain libtorch ops, the way one writes it in PyTorch (the nucleus-sampling recipe of
 * Hugging Face's {@code TopPLogitsWarper}): {@code softmax(logits / T)}, a full descending {@code sort}, an
 * exclusive {@code cumsum} that masks the tokens after the top-p mass (and the positions past top-k), a
 * {@code scatter} back, then {@code multinomial}; the log-prob is {@code log_softmax(logits / T)} at the token.
 * It is the benchmarks' "what a user would pick instead" baseline. It draws from torch's global generator,
 * so its tokens follow the same distribution as {@link Sampler}'s but are not the same tokens. Works on CPU
 * and CUDA tensors alike. The config is checked; the logits are not.
 *
 * <p>A test fixture: it lives in the library's tests, not in its jar, and reaches the benchmarks through the
 * library's test jar.
 */
@SuppressWarnings("try") // PointerScope is opened for its effect: it frees what is created inside
public final class SamplerTorch {
    private SamplerTorch() {}

    /** int64 [B] tokens and float32 [B] log-probs, owned by the caller's scope. */
    public record Result(Tensor tokens, Tensor logprobs) {}

    /** @param logits float32 [B, V] */
    public static Result sample(SamplerConfig config, Tensor logits) {
        Checks.notNull(config, "config");
        Checks.notNull(logits, "logits");
        Checks.require(logits.dim() == 2, "logits must be 2-D [B, V], got " + logits.dim() + " dimensions");
        long vocab = logits.size(1);
        PointerScope outer = PointerScope.getInnerScope();
        Tensor tokens, logprobs;
        try (PointerScope scope = new PointerScope()) {
            Tensor x = logits.div(new Scalar(config.temperature()));
            if (config.greedy()) {
                tokens = x.argmax(new LongOptional(1), false);
            } else {
                Tensor probs = x.softmax(1);
                boolean topK = config.topK() > 0 && config.topK() < vocab;
                if (config.topP() < 1 || topK) {
                    T_TensorTensor_T sorted = probs.sort(1, true);
                    Tensor sp = sorted.get0(), idx = sorted.get1();
                    Tensor remove = null;
                    if (config.topP() < 1) remove = sp.cumsum(1).sub(sp).gt(new Scalar(config.topP()));
                    if (topK) {
                        Tensor past = torch.arange(new Scalar(vocab), new TensorOptions(ScalarType.Long))
                                .to(logits.device(), ScalarType.Long)
                                .ge(new Scalar((long) config.topK()))
                                .expand_as(sp);
                        remove = remove == null ? past : remove.logical_or(past);
                    }
                    probs = torch.zeros_like(probs).scatter(1, idx, sp.masked_fill(remove, new Scalar(0.0)));
                }
                tokens = probs.multinomial(1).squeeze(1);
            }
            logprobs = torch.log_softmax(x, 1).gather(1, tokens.unsqueeze(1)).squeeze(1);
            tokens.retainReference();
            logprobs.retainReference();
        }
        return new Result(handOver(tokens, outer), handOver(logprobs, outer));
    }

    private static Tensor handOver(Tensor t, PointerScope outer) {
        if (outer != null) {
            outer.attach(t);
            t.releaseReference();
        }
        return t;
    }
}
