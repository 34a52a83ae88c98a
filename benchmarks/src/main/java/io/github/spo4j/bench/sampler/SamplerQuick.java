package io.github.spo4j.bench.sampler;

import io.github.spo4j.bench.BenchSupport;
import io.github.spo4j.bench.QuickCase;
import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.sampler.SampleResult;
import io.github.spo4j.kernels.sampler.Sampler;
import io.github.spo4j.kernels.sampler.SamplerConfig;
import io.github.spo4j.kernels.sampler.SamplerTorch;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * The sampler in the quick side-by-side ({@code sampler}): one token for each of B rows of logits [B, V] at T = 0.7,
 * top-p 0.95, logits N(0, 3²). Its "gradient" is the log-probs, its "loss" the sum of the tokens (so the same tokens
 * give 0). {@code reference}, {@code cpu} and {@code cuda} are {@link Sampler} on those backends with the Java-array
 * entry, {@code torch} {@link SamplerTorch} (which draws with torch's own generator).
 */
@SuppressWarnings("try") // PointerScope is opened for its effect: it frees what is created inside
public final class SamplerQuick {
    static final SamplerConfig CONFIG =
            SamplerConfig.builder().temperature(0.7f).topP(0.95f).seed(7).build();

    private SamplerQuick() {}

    /** One sampling step over {@code rows} rows of {@code vocab} logits; the bytes are the logits read once. */
    public static QuickCase of(int rows, int vocab, long seed) {
        return new SamplerCase(rows, vocab, seed);
    }

    private record SamplerCase(int rows, int vocab, long seed) implements QuickCase {
        @Override
        public String kernel() {
            return "sampler";
        }

        @Override
        public String shape() {
            return "B=" + rows + " V=" + vocab;
        }

        @Override
        public long bytes() {
            return 4L * rows * vocab;
        }

        @Override
        public Impl create(String impl) {
            SplittableRandom r = new SplittableRandom(seed);
            float[] logits = new float[rows * vocab];
            for (int i = 0; i < logits.length; i++) logits[i] = (float) (3 * r.nextGaussian());
            long[] ids = new long[rows];
            int[] positions = new int[rows];
            for (int i = 0; i < rows; i++) {
                ids[i] = i;
                positions[i] = 100 + i;
            }
            if (impl.equals("torch")) return new SamplerOnTorch(BenchSupport.Tensors.floats(logits, rows, vocab), rows);
            Sampler sampler = Sampler.create(
                    switch (impl) {
                        case "reference" -> Backend.REFERENCE;
                        case "cpu" -> Backend.CPU;
                        case "cuda" -> Backend.CUDA;
                        default -> throw new IllegalArgumentException(impl);
                    });
            return new Impl() {
                private SampleResult last;

                @Override
                public double run() {
                    last = sampler.sample(CONFIG, logits, vocab, ids, positions);
                    return Arrays.stream(last.tokens()).asLongStream().sum();
                }

                @Override
                public float[] gradient() {
                    return last.logprobs();
                }

                @Override
                public void close() {}
            };
        }
    }

    /** {@link SamplerTorch#sample}: softmax, full sort, cumsum mask, multinomial, on a tensor made once. */
    private static final class SamplerOnTorch implements QuickCase.Impl {
        private final Tensor logits;
        private final int rows;
        private float[] logprobs;

        SamplerOnTorch(Tensor logits, int rows) {
            this.logits = logits;
            this.rows = rows;
        }

        @Override
        public double run() {
            try (PointerScope scope = new PointerScope()) {
                SamplerTorch.Result res = SamplerTorch.sample(CONFIG, logits);
                logprobs = new float[rows];
                res.logprobs().contiguous().data_ptr_float().get(logprobs);
                long[] tokens = new long[rows];
                res.tokens().contiguous().data_ptr_long().get(tokens);
                return Arrays.stream(tokens).sum();
            }
        }

        @Override
        public float[] gradient() {
            return logprobs;
        }

        @Override
        public void close() {
            BenchSupport.Tensors.release(logits);
        }
    }
}
