package io.github.spo4j.kernels.engine;

import io.github.spo4j.kernels.Bf16;
import io.github.spo4j.kernels.DType;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;

/** Conversions between Java arrays and JavaCPP pointers, and pointer size checks, for {@link KernelCall}. */
public final class NativeArrays {
    private NativeArrays() {}

    /** A pointer that knows its size (JavaCPP allocations do; tensor data pointers do not) must hold `count`. */
    static void capacity(Pointer p, long count, String name) {
        if (p == null || p.capacity() <= 0) return;
        long available = p.capacity() - p.position();
        if (available < count) {
            throw new IllegalArgumentException(name + " holds " + available + " elements, expected " + count);
        }
    }

    /** The mask as 0/1 bytes, the C API's bool layout; null for null. */
    public static BytePointer bytes(boolean[] a) {
        if (a == null) return null;
        byte[] b = new byte[a.length];
        for (int i = 0; i < a.length; i++) b[i] = (byte) (a[i] ? 1 : 0);
        return new BytePointer(b);
    }

    /** {@code p} as a {@code P} (the same address and position), or null for null. */
    public static <P extends Pointer> P cast(Pointer p, Class<P> type) {
        if (p == null) return null;
        if (type.isInstance(p)) return type.cast(p);
        try {
            return type.getConstructor(Pointer.class).newInstance(p);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code n} values of {@code dtype} (F32 or BF16) from the pointer's position, as floats; null for null. */
    public static float[] toFloats(Pointer p, DType dtype, long n) {
        if (p == null) return null;
        Checks.require(n <= Integer.MAX_VALUE, "the reference backend holds at most 2^31 - 1 values");
        float[] out = new float[(int) n];
        if (n == 0) return out;
        if (dtype == DType.BF16) {
            short[] raw = new short[(int) n];
            cast(p, ShortPointer.class).get(raw);
            for (int i = 0; i < raw.length; i++) out[i] = Float.intBitsToFloat((raw[i] & 0xffff) << 16);
        } else {
            cast(p, FloatPointer.class).get(out);
        }
        return out;
    }

    static void putFloats(Pointer p, DType dtype, float[] values) {
        if (values.length == 0) return;
        if (dtype == DType.BF16) {
            short[] raw = new short[values.length];
            for (int i = 0; i < raw.length; i++) raw[i] = Bf16.fromFloat(values[i]);
            cast(p, ShortPointer.class).put(raw);
        } else {
            cast(p, FloatPointer.class).put(values);
        }
    }

    static int[] toInts(Pointer p, DType dtype, long n) {
        if (p == null) return null;
        int[] out = new int[(int) n];
        if (n == 0) return out;
        if (dtype == DType.I64) {
            long[] raw = new long[(int) n];
            cast(p, LongPointer.class).get(raw);
            for (int i = 0; i < raw.length; i++) {
                // Out-of-int-range ids are out of [0, V) too; keep them out of range rather than wrapping.
                out[i] = raw[i] > Integer.MAX_VALUE ? Integer.MAX_VALUE : raw[i] < 0 ? -1 : (int) raw[i];
            }
        } else {
            cast(p, IntPointer.class).get(out);
        }
        return out;
    }

    static boolean[] toBooleans(Pointer p, long n) {
        if (p == null) return null;
        byte[] raw = new byte[(int) n];
        if (n > 0) cast(p, BytePointer.class).get(raw);
        boolean[] out = new boolean[(int) n];
        for (int i = 0; i < raw.length; i++) out[i] = raw[i] != 0;
        return out;
    }
}
