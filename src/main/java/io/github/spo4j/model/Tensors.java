package io.github.spo4j.model;

import java.util.Arrays;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Java arrays to and from the tensors that {@link Policy} takes and returns, so that embedding code needs no raw
 * JavaCPP ({@code from_blob}, {@code data_ptr}).
 *
 * <pre>{@code
 * try (PointerScope scope = new PointerScope()) {
 *     Tensor logits = policy.logits(Tensors.tokenIds(new int[][] {{1, 5, 9}, {1, 7, 3}}));  // [B, T, V]
 *     long[] shape = Tensors.shape(logits);                                                  // {2, 3, V}
 *     float[][] rows = Tensors.toFloatRows(logits);                                          // B·T rows of V
 * }
 * }</pre>
 *
 * <p>Every factory copies its input into a new tensor that, like the result of any libtorch operation, belongs to
 * the caller's open {@link PointerScope} (or, with none open, to the garbage collector). Factories make host
 * tensors (the policy copies them to its {@link Device}); readers copy out of any tensor, whatever its strides and
 * device (a CUDA tensor through one device-to-host copy).
 */
public final class Tensors {
    private Tensors() {}

    /**
     * Token ids as an int64 [B, T] tensor, the input of {@link Policy#logits(Tensor)}. Every row must have the same
     * length T; for ragged rows use {@link #tokenIds(int[][], int)}.
     *
     * @param tokens [B] rows of T &gt;= 1 token ids each, B &gt;= 1
     * @throws IllegalArgumentException naming the first row that is null, empty or of another length
     */
    public static Tensor tokenIds(int[][] tokens) {
        int t = checkRows(tokens);
        for (int b = 0; b < tokens.length; b++) {
            if (tokens[b].length != t) {
                throw new IllegalArgumentException("tokens[" + b + "] has " + tokens[b].length
                        + " ids but tokens[0] has " + t + " (rows must be equally long; tokenIds(tokens, padId) pads"
                        + " ragged rows)");
            }
        }
        return tokenIds(tokens, t, 0);
    }

    /**
     * Ragged token ids as an int64 [B, T] tensor, each row right-padded with {@code padId} to the longest row's
     * length T. In a causal model no position attends to a later one, so the logits of a row's own positions do not
     * depend on the padding after it ({@link Policy#logitsArray} relies on this).
     *
     * @param tokens [B] rows of at least one token id each, B &gt;= 1
     * @param padId  the id written after each shorter row; must itself be a valid id for the model that reads it
     */
    public static Tensor tokenIds(int[][] tokens, int padId) {
        int t = checkRows(tokens);
        for (int[] row : tokens) t = Math.max(t, row.length);
        return tokenIds(tokens, t, padId);
    }

    /** A float32 tensor [n] holding a copy of {@code data} (per-token log-probs, advantages). */
    public static Tensor floats(float[] data) {
        if (data == null) throw new IllegalArgumentException("data must not be null");
        return floats(data, data.length);
    }

    /**
     * A float32 tensor holding a copy of {@code data}.
     *
     * @param data  the values, row-major
     * @param shape the dimensions, each &gt;= 0, whose product is {@code data.length}
     */
    public static Tensor floats(float[] data, long... shape) {
        if (data == null) throw new IllegalArgumentException("data must not be null");
        checkShape(shape, data.length);
        FloatPointer p = new FloatPointer(data);
        Tensor t =
                torch.from_blob(p, shape, new TensorOptions(ScalarType.Float)).clone();
        p.close();
        return t;
    }

    /** An int32 tensor [n] holding a copy of {@code data} (the kernels' {@code seqOffsets}, int32 targets). */
    public static Tensor ints(int[] data) {
        if (data == null) throw new IllegalArgumentException("data must not be null");
        return ints(data, data.length);
    }

    /**
     * An int32 tensor holding a copy of {@code data}.
     *
     * @param data  the values, row-major
     * @param shape the dimensions, each &gt;= 0, whose product is {@code data.length}
     */
    public static Tensor ints(int[] data, long... shape) {
        if (data == null) throw new IllegalArgumentException("data must not be null");
        checkShape(shape, data.length);
        IntPointer p = new IntPointer(data);
        Tensor t = torch.from_blob(p, shape, new TensorOptions(ScalarType.Int)).clone();
        p.close();
        return t;
    }

    /** The dimensions of {@code t} ({@code [B, T, V]} for {@link Policy#logits(Tensor)}). */
    public static long[] shape(Tensor t) {
        if (t == null) throw new IllegalArgumentException("t must not be null");
        long[] shape = new long[(int) t.dim()];
        for (int d = 0; d < shape.length; d++) shape[d] = t.size(d);
        return shape;
    }

    /**
     * The values of a tensor of any floating dtype, shape, strides and device, row-major, as float32.
     *
     * @throws IllegalArgumentException if {@code t} holds over 2³¹ − 1 elements
     */
    public static float[] toFloats(Tensor t) {
        checkReadable(t);
        try (PointerScope scope = new PointerScope()) {
            Tensor c = Device.toHost(t.detach()).to(ScalarType.Float).contiguous();
            long n = c.numel();
            if (n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("t has " + n + " elements, more than a Java array holds");
            }
            float[] out = new float[(int) n];
            if (n > 0) new FloatPointer(c.data_ptr_float()).capacity(n).get(out);
            return out;
        }
    }

    /**
     * The values of a tensor [..., C] (any device) as rows of its last dimension: row r is the r-th C-vector in row-major
     * order, so [B, V] next-token logits give B rows and [B, T, V] logits give B·T rows (row b·T + t).
     *
     * @throws IllegalArgumentException if {@code t} has no dimension
     */
    public static float[][] toFloatRows(Tensor t) {
        checkReadable(t);
        if (t.dim() == 0) throw new IllegalArgumentException("t is a scalar; rows need at least one dimension");
        int cols = Math.toIntExact(t.size(-1));
        float[] flat = toFloats(t);
        int rows = Math.toIntExact(rowCount(t));
        float[][] out = new float[rows][];
        for (int r = 0; r < rows; r++) {
            out[r] = new float[cols];
            System.arraycopy(flat, r * cols, out[r], 0, cols);
        }
        return out;
    }

    // ---- package-private: the policy's own plumbing -----------------------------------------------------------

    /** A float32 copy of {@code data} that outlives any open scope; its owner releases it with releaseReference(). */
    static Tensor retainedFloats(float[] data, long... shape) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = floats(data, shape);
            t.retainReference();
            return t;
        }
    }

    /** An int64 copy of {@code data} in the caller's scope. */
    static Tensor scopedLongs(long[] data, long... shape) {
        LongPointer p = new LongPointer(data);
        Tensor t = torch.from_blob(p, shape, new TensorOptions(ScalarType.Long)).clone();
        p.close();
        return t;
    }

    /** An int64 tensor [n] of int ids, in the caller's scope. */
    static Tensor scopedLongs(int[] data) {
        long[] l = new long[data.length];
        for (int i = 0; i < data.length; i++) l[i] = data[i];
        return scopedLongs(l, data.length);
    }

    /** A uint8 copy of {@code data} [n] in the caller's scope. */
    static Tensor scopedBytes(byte[] data) {
        BytePointer p = new BytePointer(data);
        Tensor t = torch.from_blob(p, new long[] {data.length}, new TensorOptions(ScalarType.Byte))
                .clone();
        p.close();
        return t;
    }

    // ---- checks -----------------------------------------------------------------------------------------------

    /** Checks B &gt;= 1 rows, none null or empty; returns the first row's length. */
    private static int checkRows(int[][] tokens) {
        if (tokens == null) throw new IllegalArgumentException("tokens must not be null");
        if (tokens.length == 0) throw new IllegalArgumentException("tokens must hold at least one row");
        for (int b = 0; b < tokens.length; b++) {
            if (tokens[b] == null) throw new IllegalArgumentException("tokens[" + b + "] must not be null");
            if (tokens[b].length == 0) {
                throw new IllegalArgumentException("tokens[" + b + "] must hold at least one id");
            }
        }
        return tokens[0].length;
    }

    private static Tensor tokenIds(int[][] tokens, int t, int padId) {
        int b = tokens.length;
        long[] ids = new long[Math.multiplyExact(b, t)];
        for (int r = 0; r < b; r++) {
            for (int i = 0; i < t; i++) ids[r * t + i] = i < tokens[r].length ? tokens[r][i] : padId;
        }
        return scopedLongs(ids, b, t);
    }

    private static void checkShape(long[] shape, long numel) {
        if (shape == null) throw new IllegalArgumentException("shape must not be null");
        long n = 1;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] < 0) throw new IllegalArgumentException("shape[" + d + "] = " + shape[d] + " is negative");
            n = Math.multiplyExact(n, shape[d]);
        }
        if (n != numel) {
            throw new IllegalArgumentException(
                    "shape " + Arrays.toString(shape) + " holds " + n + " elements but data has " + numel);
        }
    }

    private static void checkReadable(Tensor t) {
        if (t == null) throw new IllegalArgumentException("t must not be null");
    }

    /** The number of rows of a tensor [..., C]: the product of its leading dimensions. */
    private static long rowCount(Tensor t) {
        long n = 1;
        for (int d = 0; d < t.dim() - 1; d++) n *= t.size(d);
        return n;
    }
}
