package io.github.spo4j.kernels;

import io.github.spo4j.kernels.nativebind.Spo4jNative;

/** Element types on the native boundary (the codes of {@code SPO4J_DTYPE_*}). */
public enum DType {
    F32(Spo4jNative.SPO4J_DTYPE_F32, 4),
    BF16(Spo4jNative.SPO4J_DTYPE_BF16, 2),
    I32(Spo4jNative.SPO4J_DTYPE_I32, 4),
    I64(Spo4jNative.SPO4J_DTYPE_I64, 8);

    public final int code;
    /** Bytes per element. */
    public final int bytes;

    DType(int code, int bytes) {
        this.code = code;
        this.bytes = bytes;
    }
}
