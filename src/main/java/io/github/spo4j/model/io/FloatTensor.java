package io.github.spo4j.model.io;

import java.util.Arrays;

/**
 * An fp32 tensor on the Java heap: row-major data and its shape, the writer's plain input.
 *
 * @param data  numel values in row-major (C) order; not copied
 * @param shape the dimensions, each &gt;= 0, whose product is {@code data.length} ([] holds one value)
 */
public record FloatTensor(float[] data, long... shape) {
    public FloatTensor {
        if (data == null) throw new IllegalArgumentException("data must not be null");
        if (shape == null) throw new IllegalArgumentException("shape must not be null");
        shape = shape.clone();
        long n = 1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) throw new IllegalArgumentException("shape[" + i + "] = " + shape[i] + " is negative");
            n = shape[i] == 0 || n <= Long.MAX_VALUE / shape[i] ? n * shape[i] : -1;
        }
        if (n != data.length) { // n = -1: the shape overflows a long
            throw new IllegalArgumentException(
                    "shape " + Arrays.toString(shape) + " holds " + n + " elements but data has " + data.length);
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FloatTensor t && Arrays.equals(data, t.data) && Arrays.equals(shape, t.shape);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(data) * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "FloatTensor" + Arrays.toString(shape);
    }
}
