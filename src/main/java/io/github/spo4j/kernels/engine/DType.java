package io.github.spo4j.kernels.engine;

/** Element types on the native boundary (the codes of {@code SPO4J_DTYPE_*}). */
public enum DType {
    F32(0, 4),
    BF16(1, 2),
    I32(2, 4),
    I64(3, 8);

    public final int code;
    /** Bytes per element. */
    public final int bytes;

    DType(int code, int bytes) {
        this.code = code;
        this.bytes = bytes;
    }
}
