package io.github.spo4j.model;

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
 * Java arrays to and from CPU tensors. The {@code *} factories return tensors that outlive any open
 * {@link PointerScope} (their owner releases them with {@code releaseReference()}); the {@code scoped*} ones
 * belong to the caller's current scope like any tensor an operation returns.
 */
final class Tensors {
    private Tensors() {}

    /** A retained float32 copy of {@code data} shaped {@code shape}. */
    static Tensor floats(float[] data, long... shape) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = torch.from_blob(new FloatPointer(data), shape, new TensorOptions(ScalarType.Float)).clone();
            t.retainReference();
            return t;
        }
    }

    /** A float32 copy of {@code data} in the caller's scope. */
    static Tensor scopedFloats(float[] data, long... shape) {
        FloatPointer p = new FloatPointer(data);
        Tensor t = torch.from_blob(p, shape, new TensorOptions(ScalarType.Float)).clone();
        p.close();
        return t;
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

    /** An int32 copy of {@code data} [n] in the caller's scope. */
    static Tensor scopedInts(int[] data) {
        IntPointer p = new IntPointer(data);
        Tensor t = torch.from_blob(p, new long[] {data.length}, new TensorOptions(ScalarType.Int)).clone();
        p.close();
        return t;
    }

    /** A uint8 copy of {@code data} [n] in the caller's scope. */
    static Tensor scopedBytes(byte[] data) {
        BytePointer p = new BytePointer(data);
        Tensor t = torch.from_blob(p, new long[] {data.length}, new TensorOptions(ScalarType.Byte)).clone();
        p.close();
        return t;
    }

    /** The values of a CPU float32 tensor (any shape, any strides). */
    static float[] toFloats(Tensor t) {
        try (PointerScope scope = new PointerScope()) {
            Tensor c = t.detach().to(ScalarType.Float).contiguous();
            long n = c.numel();
            float[] out = new float[Math.toIntExact(n)];
            if (n > 0) new FloatPointer(c.data_ptr_float()).capacity(n).get(out);
            return out;
        }
    }
}
