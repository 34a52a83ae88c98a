package io.github.spo4j.model.io;

import java.util.Arrays;

/**
 * One tensor's entry in a safetensors header: its element type, shape (row-major, C order) and byte range
 * {@code [begin, end)} counted from the first byte after the header.
 *
 * @param name  the tensor's name
 * @param dtype the element type
 * @param shape the dimensions, each &gt;= 0 ([] is a scalar)
 * @param begin first data byte, relative to the data section
 * @param end   one past the last data byte; {@code end − begin = numel · dtype.bytes}
 */
public record TensorInfo(String name, SafeTensorsDType dtype, long[] shape, long begin, long end) {
    public TensorInfo {
        if (name == null) throw new IllegalArgumentException("name must not be null");
        if (dtype == null) throw new IllegalArgumentException("dtype must not be null");
        if (shape == null) throw new IllegalArgumentException("shape must not be null");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** The number of elements: the product of the shape (1 for a scalar). */
    public long numel() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    public long byteSize() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t
                && name.equals(t.name)
                && dtype == t.dtype
                && Arrays.equals(shape, t.shape)
                && begin == t.begin
                && end == t.end;
    }

    @Override
    public int hashCode() {
        return ((name.hashCode() * 31 + dtype.hashCode()) * 31 + Arrays.hashCode(shape)) * 31 + Long.hashCode(begin);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
    }
}
