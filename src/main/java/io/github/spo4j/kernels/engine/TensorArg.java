package io.github.spo4j.kernels.engine;

import static io.github.spo4j.kernels.engine.NativeArrays.cast;

import io.github.spo4j.kernels.DType;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** A checked tensor's data pointer and dtype ({@link KernelCall#tensor}); {@link #NONE} for an absent one. */
public record TensorArg(Pointer pointer, ScalarType type) {
    public static final TensorArg NONE = new TensorArg(null, null);

    public DType dtype() {
        if (type == ScalarType.BFloat16) return DType.BF16;
        if (type == ScalarType.Long) return DType.I64;
        if (type == ScalarType.Int) return DType.I32;
        return DType.F32;
    }

    public FloatPointer asFloats() {
        return cast(pointer, FloatPointer.class);
    }

    public IntPointer asInts() {
        return cast(pointer, IntPointer.class);
    }

    public LongPointer asLongs() {
        return cast(pointer, LongPointer.class);
    }

    public BytePointer asBytes() {
        return cast(pointer, BytePointer.class);
    }
}
