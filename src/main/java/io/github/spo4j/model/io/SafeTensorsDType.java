package io.github.spo4j.model.io;

/**
 * The element types a safetensors header may name (the {@code dtype} strings of the format). Every type is
 * known so that any valid file opens and its layout is checked; {@link #readableAsFloat()} and
 * {@link #readableAsLong()} say which ones this package converts.
 */
public enum SafeTensorsDType {
    BOOL(1),
    U8(1),
    I8(1),
    F8_E5M2(1),
    F8_E4M3(1),
    I16(2),
    U16(2),
    F16(2),
    BF16(2),
    I32(4),
    U32(4),
    F32(4),
    F64(8),
    I64(8),
    U64(8);

    /** Bytes per element. */
    public final int bytes;

    SafeTensorsDType(int bytes) {
        this.bytes = bytes;
    }

    /** F32, BF16 and F16 are converted to fp32 on load. */
    public boolean readableAsFloat() {
        return this == F32 || this == BF16 || this == F16;
    }

    /** I64 and I32 are read as longs. */
    public boolean readableAsLong() {
        return this == I64 || this == I32;
    }

    /** The type named by a header's {@code dtype} string, or null when there is none. */
    static SafeTensorsDType parse(String name) {
        for (SafeTensorsDType t : values()) {
            if (t.name().equals(name)) return t;
        }
        return null;
    }
}
