package io.github.spo4j.kernels;

import static io.github.spo4j.kernels.NativeArrays.cast;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** A checked tensor's data pointer and dtype. */
record TensorArg(Pointer pointer, ScalarType type) {
    static final TensorArg NONE = new TensorArg(null, null);

    DType dtype() {
        if (type == ScalarType.BFloat16) return DType.BF16;
        if (type == ScalarType.Long) return DType.I64;
        if (type == ScalarType.Int) return DType.I32;
        return DType.F32;
    }

    FloatPointer asFloats() {
        return cast(pointer, FloatPointer.class);
    }

    IntPointer asInts() {
        return cast(pointer, IntPointer.class);
    }

    BytePointer asBytes() {
        return cast(pointer, BytePointer.class);
    }
}
