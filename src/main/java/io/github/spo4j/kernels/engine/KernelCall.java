package io.github.spo4j.kernels.engine;

import static io.github.spo4j.kernels.engine.NativeArrays.cast;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.DType;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntSupplier;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The arguments of one kernel call on one backend, so that a facade states only its op: its own checks, the
 * list of its inputs and outputs, and the native or reference call. Internal plumbing of the facades.
 *
 * <p>The three forms of an argument meet in one declaration:
 * <ul>
 *   <li>Java arrays: {@link #host} copies an input into native host memory; {@link #hostOut} allocates an
 *       output there (at least one element) that {@link #run} copies back into its array once the call
 *       succeeded. The call owns these copies and frees them on {@link #close};</li>
 *   <li>libtorch tensors: {@link #tensor} and {@link #tensorOut} check layout, dtype, device and size, and the
 *       tensors (or their contiguous copies) stay reachable until {@link #close};</li>
 *   <li>JavaCPP pointers: the caller's memory on the backend's device (host memory for CPU and REFERENCE).</li>
 * </ul>
 * {@link #in} and {@link #out} then declare each pointer with its element count, checked against the
 * pointer's capacity where it knows one (JavaCPP allocations do; tensor data pointers do not).
 *
 * <p>On {@link Backend#CUDA}, {@link #run} moves the host copies through device memory: each input is copied to
 * a device allocation of its count's bytes, each output gets one of the same size and is copied back after the
 * call; caller pointers and tensors are passed as they are. On {@link Backend#REFERENCE}, {@link Arg#readFloats}
 * and its siblings read the inputs into arrays and {@link Arg#write} puts the reference's results back.
 *
 * <p>One instance per call, used by one thread, closed with try-with-resources.
 */
public final class KernelCall implements AutoCloseable {
    private final Backend backend;
    private final Map<Pointer, Object> hostCopies = new IdentityHashMap<>(); // host copy -> the array it mirrors
    private final Set<Object> outputArrays = Collections.newSetFromMap(new IdentityHashMap<>());
    private final List<Arg> args = new ArrayList<>();
    private final List<Tensor> tensors = new ArrayList<>();

    public KernelCall(Backend backend) {
        this.backend = backend;
    }

    /** Whether the reference backend runs this call (the facade runs its Java reference instead of native code). */
    public boolean reference() {
        return backend == Backend.REFERENCE;
    }

    /** The C API's device code of this call's backend. */
    public int device() {
        return backend == Backend.CUDA ? Spo4jNative.SPO4J_DEVICE_CUDA : Spo4jNative.SPO4J_DEVICE_CPU;
    }

    /**
     * The C API's stream of this call: libtorch's current CUDA stream on {@link Backend#CUDA} (null, the legacy
     * default stream, where libtorch has no CUDA), null on the host backends.
     */
    public Pointer stream() {
        return backend == Backend.CUDA ? TorchStreams.current() : null;
    }

    // ---- Java arrays ------------------------------------------------------------------------------------

    /** A host copy of an input array, or null for null. */
    public FloatPointer host(float[] a) {
        return a == null ? null : own(new FloatPointer(a), a);
    }

    public IntPointer host(int[] a) {
        return a == null ? null : own(new IntPointer(a), a);
    }

    public LongPointer host(long[] a) {
        return a == null ? null : own(new LongPointer(a), a);
    }

    /** 0/1 bytes. */
    public BytePointer host(boolean[] a) {
        return a == null ? null : own(NativeArrays.bytes(a), a);
    }

    /**
     * Host memory for an output array (its length, at least one element), copied into the array after a
     * successful {@link #run}; null for null.
     */
    public FloatPointer hostOut(float[] a) {
        return a == null ? null : receive(own(new FloatPointer(Math.max(a.length, 1)), a));
    }

    public IntPointer hostOut(int[] a) {
        return a == null ? null : receive(own(new IntPointer(Math.max(a.length, 1)), a));
    }

    /** The host copy of an input array that the kernel also writes (in place); its array receives the result. */
    public <P extends Pointer> P inPlace(P hostCopy) {
        if (!hostCopies.containsKey(hostCopy)) {
            throw new IllegalStateException("in place needs a host copy made by this call");
        }
        return receive(hostCopy);
    }

    private <P extends Pointer> P receive(P hostCopy) {
        outputArrays.add(hostCopies.get(hostCopy));
        return hostCopy;
    }

    private <P extends Pointer> P own(P p, Object array) {
        hostCopies.put(p, array);
        return p;
    }

    // ---- libtorch tensors -------------------------------------------------------------------------------

    /**
     * A checked input tensor: dense, one of {@code types}, on this backend's device, with {@code numel} elements
     * (or, for {@code numel < 0}, 1-D with at least one element, as offsets [B+1] are); a tensor that is not
     * contiguous is replaced by a contiguous copy. {@link TensorArg#NONE} for null.
     */
    public TensorArg tensor(String name, Tensor t, long numel, ScalarType... types) {
        return tensor(name, t, numel, false, types);
    }

    /** A checked output tensor, as {@link #tensor}; it must be contiguous (the kernel writes through it). */
    public TensorArg tensorOut(String name, Tensor t, long numel, ScalarType... types) {
        return tensor(name, t, numel, true, types);
    }

    private TensorArg tensor(String name, Tensor t, long numel, boolean output, ScalarType... types) {
        if (t == null) return TensorArg.NONE;
        Checks.require(
                !t.is_sparse() && !t.is_sparse_csr() && !t.is_mkldnn(), name + " must be a dense strided tensor");
        ScalarType type = t.scalar_type().intern();
        boolean typeOk = false;
        StringBuilder expected = new StringBuilder();
        for (ScalarType s : types) {
            typeOk |= s == type;
            expected.append(expected.length() > 0 ? " or " : "").append(s);
        }
        Checks.require(typeOk, name + " must have dtype " + expected + ", got " + type);
        boolean cuda = t.is_cuda();
        Checks.require(
                cuda == (backend == Backend.CUDA),
                name + " is on " + (cuda ? "CUDA" : "the CPU") + " but the backend is " + backend
                        + (cuda ? " (use Backend.CUDA for CUDA tensors)" : " (CUDA needs CUDA tensors)"));
        if (numel >= 0) {
            Checks.require(t.numel() == numel, name + " has " + t.numel() + " elements, expected " + numel);
        } else {
            Checks.require(t.dim() == 1 && t.numel() >= 1, name + " must be 1-D with B+1 >= 1 elements");
        }
        if (!t.is_contiguous()) {
            Checks.require(!output, name + " is an output and must be contiguous");
            t = t.contiguous();
        }
        tensors.add(t);
        return new TensorArg(t.data_ptr(), type);
    }

    // ---- declarations -----------------------------------------------------------------------------------

    /** Input {@code name}: {@code count} floats from the pointer's position; absent when {@code p} is null. */
    public Arg in(String name, FloatPointer p, long count) {
        return declare(name, p, DType.F32, count, false);
    }

    public Arg in(String name, IntPointer p, long count) {
        return declare(name, p, DType.I32, count, false);
    }

    public Arg in(String name, LongPointer p, long count) {
        return declare(name, p, DType.I64, count, false);
    }

    /** Input {@code name}: {@code count} 0/1 bytes. */
    public Arg in(String name, BytePointer p, long count) {
        return declare(name, p, null, count, false);
    }

    /** Input {@code name}: {@code count} elements of {@code dtype}. */
    public Arg in(String name, Pointer p, DType dtype, long count) {
        return declare(name, p, dtype, count, false);
    }

    /** Output {@code name}: {@code count} floats from the pointer's position; absent when {@code p} is null. */
    public Arg out(String name, FloatPointer p, long count) {
        return declare(name, p, DType.F32, count, true);
    }

    public Arg out(String name, IntPointer p, long count) {
        return declare(name, p, DType.I32, count, true);
    }

    /** Output {@code name}: {@code count} elements of {@code dtype}. */
    public Arg out(String name, Pointer p, DType dtype, long count) {
        return declare(name, p, dtype, count, true);
    }

    private Arg declare(String name, Pointer p, DType dtype, long count, boolean output) {
        NativeArrays.capacity(p, count, name);
        Object array = p == null ? null : hostCopies.get(p);
        Object receiver = output && outputArrays.contains(array) ? array : null;
        Arg a = new Arg(name, p, dtype, count, output, receiver, backend == Backend.CUDA && array != null);
        args.add(a);
        return a;
    }

    // ---- the native call --------------------------------------------------------------------------------

    /**
     * Runs the native call (which reads the declared arguments through {@link Arg#pointer()} and its typed
     * views) and turns its status into an exception. On CUDA the host copies go through device memory around
     * it, freed before this returns. Output arrays receive their results only when the call succeeded.
     */
    public void run(IntSupplier nativeCall) {
        boolean staging = false;
        for (Arg a : args) staging |= a.staged;
        if (!staging) {
            NativeLibrary.check(nativeCall.getAsInt());
        } else {
            try (Staging s = new Staging()) {
                for (Arg a : args) {
                    if (!a.staged) continue;
                    if (a.output) a.deviceOut = s.alloc(a.bytes());
                    else a.device = s.in(a.pointer, a.bytes());
                }
                NativeLibrary.check(nativeCall.getAsInt());
                for (Arg a : args) {
                    if (a.deviceOut != null) a.deviceOut.copyTo(a.pointer);
                }
            } finally {
                for (Arg a : args) {
                    a.device = null;
                    a.deviceOut = null;
                }
            }
        }
        for (Arg a : args) {
            if (a.output) a.deliver();
        }
    }

    /** Frees the host copies; the tensors stay reachable up to here. */
    @Override
    public void close() {
        Reference.reachabilityFence(tensors);
        for (Pointer p : hostCopies.keySet()) p.deallocate();
        hostCopies.clear();
        outputArrays.clear();
    }

    /**
     * One declared argument: its pointer for the native call, and its values as Java arrays for the reference.
     * An absent argument (declared with a null pointer) reads as null, and writes to it are ignored.
     */
    public static final class Arg {
        private final String name;
        private final Pointer pointer; // the caller's memory, a host copy, or null
        private final DType dtype; // null: 0/1 bytes
        private final long count;
        private final boolean output;
        private final Object array; // the output array this host copy is copied back into, or null
        private final boolean staged; // a host copy on CUDA: run() moves it through device memory
        private Pointer device; // an input's device copy, during run()
        private DeviceMemory deviceOut; // an output's device allocation, during run()

        private Arg(
                String name, Pointer pointer, DType dtype, long count, boolean output, Object array, boolean staged) {
            this.name = name;
            this.pointer = pointer;
            this.dtype = dtype;
            this.count = count;
            this.output = output;
            this.array = array;
            this.staged = staged;
        }

        public boolean present() {
            return pointer != null;
        }

        /** The memory the native call reads or writes: the device copy of a staged host copy, else the pointer. */
        public Pointer pointer() {
            if (!staged) return pointer;
            if (device == null && deviceOut == null) {
                throw new IllegalStateException(name + " is staged to the device only inside run()");
            }
            return output ? deviceOut.pointer() : device;
        }

        public FloatPointer asFloats() {
            return cast(pointer(), FloatPointer.class);
        }

        public IntPointer asInts() {
            return cast(pointer(), IntPointer.class);
        }

        public LongPointer asLongs() {
            return cast(pointer(), LongPointer.class);
        }

        public BytePointer asBytes() {
            return cast(pointer(), BytePointer.class);
        }

        // ---- the reference round trip (host memory) ----

        /** The values as floats (bf16 widened), or null when absent. */
        public float[] readFloats() {
            return NativeArrays.toFloats(pointer, dtype, count);
        }

        /** The values as ints (int64 ids outside the int range kept out of range), or null when absent. */
        public int[] readInts() {
            return NativeArrays.toInts(pointer, dtype, count);
        }

        public long[] readLongs() {
            if (pointer == null) return null;
            long[] out = new long[(int) count];
            if (count > 0) cast(pointer, LongPointer.class).get(out);
            return out;
        }

        public boolean[] readBooleans() {
            return NativeArrays.toBooleans(pointer, count);
        }

        /** A zeroed array for the reference to fill, or null when absent. */
        public float[] newFloats() {
            if (pointer == null) return null;
            Checks.require(count <= Integer.MAX_VALUE, "the reference backend holds at most 2^31 - 1 values");
            return new float[(int) count];
        }

        /** Stores the reference's values (rounded to bf16 for a bf16 output); nothing when absent or null. */
        public void write(float[] values) {
            requireOutput();
            if (pointer == null || values == null) return;
            NativeArrays.putFloats(pointer, dtype, values);
            deliver();
        }

        public void write(int[] values) {
            requireOutput();
            if (pointer == null || values == null) return;
            if (values.length > 0) cast(pointer, IntPointer.class).put(values);
            deliver();
        }

        private void requireOutput() {
            if (!output) throw new IllegalStateException(name + " is an input");
        }

        /** A host copy of an output array passes its values on to the array. */
        private void deliver() {
            if (array instanceof float[] a) {
                if (a.length > 0) cast(pointer, FloatPointer.class).get(a);
            } else if (array instanceof int[] a) {
                if (a.length > 0) cast(pointer, IntPointer.class).get(a);
            }
        }

        long bytes() {
            return count * (dtype == null ? 1 : dtype.bytes);
        }

        boolean staged() {
            return staged;
        }
    }
}
