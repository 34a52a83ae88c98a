package io.github.spo4j.bench;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.NativeCpu;
import io.github.spo4j.kernels.engine.DeviceMemory;
import io.github.spo4j.kernels.engine.NativeArrays;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Inputs, threads and buffers shared by the benchmarks of every op and by {@link QuickBench}. */
@SuppressWarnings("try") // PointerScope is opened for its effect: it frees what is created inside
public final class BenchSupport {
    private BenchSupport() {}

    /** Fixed seed: every implementation of a trial sees the same inputs. */
    public static final long SEED = 20250523L;

    /** {@code -Dspo4j.bench.threads} (default: all cores), used by our CPU kernels and by libtorch alike. */
    public static int threads() {
        return Integer.getInteger("spo4j.bench.threads", Runtime.getRuntime().availableProcessors());
    }

    /** Sets our kernels' pool and libtorch's intra-op pool to {@link #threads()}. */
    public static void configureThreads() {
        int t = threads();
        torch.set_num_threads(t);
        if (Backend.CPU.isAvailable()) NativeCpu.setThreads(t);
    }

    /**
     * MiB of resident memory above the current level at the peak of one call: clears the kernel's high-water mark
     * through {@code /proc/self/clear_refs}, runs the call, and reads {@code VmHWM} − {@code VmRSS} before (Linux).
     */
    public static double peakRssMib(Runnable call) {
        System.gc();
        try {
            java.nio.file.Files.writeString(java.nio.file.Path.of("/proc/self/clear_refs"), "5");
            long before = statusKiB("VmRSS:");
            call.run();
            return (statusKiB("VmHWM:") - before) / 1024.0;
        } catch (java.io.IOException e) {
            throw new IllegalStateException("peak-memory probe needs Linux /proc/self/clear_refs", e);
        }
    }

    private static long statusKiB(String key) throws java.io.IOException {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
            if (line.startsWith(key))
                return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
        }
        throw new IllegalStateException(key + " not in /proc/self/status");
    }

    /** Fails the trial with a clear message when the CUDA backend was asked for but cannot run here. */
    public static void requireCuda() {
        if (!Backend.CUDA.isAvailable()) {
            try {
                Backend.CUDA.requireAvailable();
            } catch (IllegalStateException e) {
                throw new IllegalStateException("impl=cuda: cuda unavailable (" + e.getMessage() + ")", e);
            }
        }
    }

    // ---- native buffers ----------------------------------------------------------------------------

    /**
     * Off-heap copies of Java arrays: host memory, or CUDA device memory ({@link DeviceMemory}, through the JavaCPP
     * CUDA presets). Closing frees all of them.
     */
    public static final class Buffers implements AutoCloseable {
        private final boolean cuda;
        private final List<Pointer> host = new ArrayList<>();
        /** Device allocations by address, so that {@link #read} finds the one a pointer names. */
        private final Map<Long, Device> device = new HashMap<>();

        private record Device(DeviceMemory memory, long bytes) {}

        public Buffers(boolean cuda) {
            this.cuda = cuda;
        }

        public FloatPointer floats(float[] a) {
            return new FloatPointer(place(new FloatPointer(a), 4L * a.length));
        }

        public IntPointer ints(int[] a) {
            return new IntPointer(place(new IntPointer(a), 4L * a.length));
        }

        public LongPointer longs(long[] a) {
            return new LongPointer(place(new LongPointer(a), 8L * a.length));
        }

        public BytePointer bools(boolean[] a) {
            return new BytePointer(place(NativeArrays.bytes(a), a.length));
        }

        /** An uninitialised float buffer of n elements (host or device). */
        public FloatPointer floats(long n) {
            if (!cuda) return keep(new FloatPointer(n));
            return new FloatPointer(deviceAlloc(4 * n).pointer());
        }

        /** An uninitialised int buffer of n elements (host or device). */
        public IntPointer ints(long n) {
            if (!cuda) return keep(new IntPointer(n));
            return new IntPointer(deviceAlloc(4 * n).pointer());
        }

        /** Copies a whole float buffer of this set, of n elements, to a Java array. */
        public float[] read(FloatPointer p, long n) {
            float[] out = new float[Math.toIntExact(n)];
            if (!cuda) {
                p.get(out);
                return out;
            }
            Device d = device.get(p.address());
            if (d == null || d.bytes() != 4 * n) {
                throw new IllegalArgumentException("p is not a device buffer of " + n + " floats of this set");
            }
            try (FloatPointer h = new FloatPointer(n)) {
                d.memory().copyTo(h);
                h.get(out);
            }
            return out;
        }

        private Pointer place(Pointer hostCopy, long bytes) {
            keep(hostCopy);
            if (!cuda) return hostCopy;
            DeviceMemory d = DeviceMemory.copyOf(hostCopy, bytes);
            device.put(d.pointer().address(), new Device(d, bytes));
            return d.pointer();
        }

        private <P extends Pointer> P keep(P p) {
            host.add(p);
            return p;
        }

        private DeviceMemory deviceAlloc(long bytes) {
            DeviceMemory d = DeviceMemory.allocate(bytes);
            device.put(d.pointer().address(), new Device(d, bytes));
            return d;
        }

        @Override
        public void close() {
            device.values().forEach(d -> d.memory().close());
            device.clear();
            host.forEach(Pointer::close);
            host.clear();
        }
    }

    /** CPU tensors owning copies of Java arrays, alive until {@link #release}. */
    public static final class Tensors {
        private Tensors() {}

        public static Tensor floats(float[] a, long... shape) {
            try (PointerScope scope = new PointerScope()) {
                long[] s = shape.length == 0 ? new long[] {a.length} : shape;
                return keep(torch.from_blob(new FloatPointer(a), s, new TensorOptions(ScalarType.Float))
                        .clone());
            }
        }

        public static Tensor ints(int[] a) {
            try (PointerScope scope = new PointerScope()) {
                return keep(torch.from_blob(new IntPointer(a), new long[] {a.length}, new TensorOptions(ScalarType.Int))
                        .clone());
            }
        }

        public static Tensor longs(int[] a) {
            try (PointerScope scope = new PointerScope()) {
                return keep(torch.from_blob(new IntPointer(a), new long[] {a.length}, new TensorOptions(ScalarType.Int))
                        .to(ScalarType.Long));
            }
        }

        public static Tensor bools(boolean[] a) {
            try (PointerScope scope = new PointerScope()) {
                return keep(torch.from_blob(
                                NativeArrays.bytes(a), new long[] {a.length}, new TensorOptions(ScalarType.Byte))
                        .to(ScalarType.Bool));
            }
        }

        /** Zeroes a leaf's gradient in place, as optimizer.zero_grad(set_to_none=False) does. */
        public static void zeroGrad(Tensor leaf) {
            try (PointerScope scope = new PointerScope()) {
                Tensor g = leaf.grad();
                if (g.defined()) g.zero_();
            }
        }

        /** The values of a CPU float32 tensor, in row-major order. */
        public static float[] toFloats(Tensor t) {
            try (PointerScope scope = new PointerScope()) {
                Tensor c = t.contiguous();
                float[] out = new float[Math.toIntExact(c.numel())];
                new FloatPointer(c.data_ptr_float()).get(out);
                return out;
            }
        }

        private static Tensor keep(Tensor t) {
            t.retainReference(); // survives the scope's close
            return t;
        }

        public static void release(Tensor... tensors) {
            for (Tensor t : tensors) {
                if (t != null) t.releaseReference();
            }
        }
    }

    // ---- machine -----------------------------------------------------------------------------------

    /** e.g. "2-core x86_64 AMD EPYC". */
    public static String machine() {
        String model = "unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: keep "unknown CPU"
        }
        String arch = System.getProperty("os.arch");
        if (arch.equals("amd64")) arch = "x86_64";
        return Runtime.getRuntime().availableProcessors() + "-core " + arch + " " + model;
    }
}
