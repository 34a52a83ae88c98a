package io.github.spo4j.model;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Rotary position embedding tables, HF's {@code rotate_half} form: for head vector x of D values,
 * <pre>
 *   rope(x, p) = x · cos(p·f) + rotate_half(x) · sin(p·f),   rotate_half(x) = (−x[D/2:], x[:D/2])
 * </pre>
 * with f = {@link ModelConfig#ropeInverseFrequencies()} repeated twice. Angles are computed in double and rounded
 * once. rotate_half(x) · sin is computed as roll(x, D/2) · sin±, with sin± the sin table whose first half is negated:
 * the same products bit for bit (negating a factor is exact), in four tensor ops instead of seven. The table grows by doubling as longer positions are asked for and is never shrunk.
 */
final class Rotary implements AutoCloseable {
    private final double[] inverseFrequencies;
    private final int headDim;
    private final Device device;
    private Tensor cos; // [capacity, D]
    private Tensor signedSin; // sin with its first half negated
    private int capacity;

    Rotary(ModelConfig config, Device device) {
        this.inverseFrequencies = config.ropeInverseFrequencies();
        this.headDim = config.headDim();
        this.device = device;
    }

    /** cos and sin± rows [positions.length, D] for the given positions. */
    synchronized Tensor[] rows(Tensor positions, int maxPosition) {
        ensure(maxPosition + 1);
        return new Tensor[] {cos.index_select(0, positions), signedSin.index_select(0, positions)};
    }

    /** cos and sin± for positions 0..T−1: [T, D] views of the table. */
    synchronized Tensor[] prefix(int t) {
        ensure(t);
        return new Tensor[] {cos.narrow(0, 0, t), signedSin.narrow(0, 0, t)};
    }

    /**
     * Applies rope to x [..., T or rows, heads, D] given cos and sin± (from {@link #rows} or {@link #prefix})
     * broadcastable as [..., rows, 1, D]: the caller unsqueezes the head axis.
     */
    static Tensor apply(Tensor x, Tensor cos, Tensor signedSin, int headDim) {
        return x.mul(cos).add(torch.roll(x, new long[] {headDim / 2}, -1).mul(signedSin));
    }

    private void ensure(int positions) {
        if (positions <= capacity) return;
        int cap = Math.max(64, capacity);
        while (cap < positions) cap = (int) Math.min(Integer.MAX_VALUE, 2L * cap);
        float[] c = new float[cap * headDim];
        float[] s = new float[cap * headDim];
        int half = headDim / 2;
        for (int p = 0; p < cap; p++) {
            for (int i = 0; i < half; i++) {
                double angle = p * inverseFrequencies[i];
                float cv = (float) Math.cos(angle), sv = (float) Math.sin(angle);
                int base = p * headDim;
                c[base + i] = cv;
                c[base + half + i] = cv;
                s[base + i] = -sv;
                s[base + half + i] = sv;
            }
        }
        Tensor newCos = device.adopt(Tensors.retainedFloats(c, cap, headDim));
        Tensor newSin = device.adopt(Tensors.retainedFloats(s, cap, headDim));
        close();
        cos = newCos;
        signedSin = newSin;
        capacity = cap;
    }

    @Override
    public synchronized void close() {
        if (cos != null) {
            cos.releaseReference();
            signedSin.releaseReference();
            cos = null;
            signedSin = null;
            capacity = 0;
        }
    }
}
