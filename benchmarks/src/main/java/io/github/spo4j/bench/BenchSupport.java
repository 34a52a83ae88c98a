package io.github.spo4j.bench;

import io.github.spo4j.cli.BenchInputs;
import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.loss.LogitsBatch;
import io.github.spo4j.kernels.loss.PolicyLoss;
import io.github.spo4j.kernels.loss.TokenBatch;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Inputs, threads and buffers shared by the benchmarks. */
@SuppressWarnings("try")  // PointerScope is opened for its effect: it frees what is created inside
final class BenchSupport {
    private BenchSupport() {}

    /** Fixed seed: every implementation of a trial sees the same inputs. */
    static final long SEED = 20250523L;

    /** {@code -Dspo4j.bench.threads} (default: all cores), used by our CPU kernels and by libtorch alike. */
    static int threads() {
        return Integer.getInteger("spo4j.bench.threads", Runtime.getRuntime().availableProcessors());
    }

    /** Sets our kernels' pool and libtorch's intra-op pool to {@link #threads()}. */
    static void configureThreads() {
        int t = threads();
        torch.set_num_threads(t);
        if (Backend.CPU.isAvailable()) Spo4jNative.spo4j_set_num_threads(t);
    }

    /** Fails the trial with a clear message when the CUDA backend was asked for but cannot run here. */
    static void requireCuda() {
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
     * Off-heap copies of Java arrays: host memory, or CUDA device memory (through libspo4j's helpers, so no
     * CUDA runtime is needed on the Java side). Closing frees all of them.
     */
    static final class Buffers implements AutoCloseable {
        private final boolean cuda;
        private final List<Pointer> host = new ArrayList<>();
        private final List<Pointer> device = new ArrayList<>();

        Buffers(boolean cuda) {
            this.cuda = cuda;
        }

        FloatPointer floats(float[] a) {
            return new FloatPointer(place(new FloatPointer(a), 4L * a.length));
        }

        IntPointer ints(int[] a) {
            return new IntPointer(place(new IntPointer(a), 4L * a.length));
        }

        BytePointer bools(boolean[] a) {
            return new BytePointer(place(BenchInputs.bytes(a), a.length));
        }

        /** An uninitialised float buffer of n elements (host or device). */
        FloatPointer floats(long n) {
            if (!cuda) return keep(new FloatPointer(n));
            return new FloatPointer(deviceAlloc(4 * n));
        }

        /** An uninitialised int buffer of n elements (host or device). */
        IntPointer ints(long n) {
            if (!cuda) return keep(new IntPointer(n));
            return new IntPointer(deviceAlloc(4 * n));
        }

        /** Copies n floats of a buffer of this set to a Java array. */
        float[] read(FloatPointer p, long n) {
            float[] out = new float[Math.toIntExact(n)];
            if (!cuda) {
                p.get(out);
                return out;
            }
            try (FloatPointer h = new FloatPointer(n)) {
                check(Spo4jNative.spo4j_cuda_memcpy(h, p, 4 * n, 1), "spo4j_cuda_memcpy");
                h.get(out);
            }
            return out;
        }

        private Pointer place(Pointer hostCopy, long bytes) {
            keep(hostCopy);
            if (!cuda) return hostCopy;
            Pointer d = deviceAlloc(bytes);
            check(Spo4jNative.spo4j_cuda_memcpy(d, hostCopy, bytes, 0), "spo4j_cuda_memcpy");
            return d;
        }

        private <P extends Pointer> P keep(P p) {
            host.add(p);
            return p;
        }

        private Pointer deviceAlloc(long bytes) {
            try (PointerPointer<Pointer> out = new PointerPointer<>(1)) {
                check(Spo4jNative.spo4j_cuda_malloc(out, Math.max(bytes, 1)), "spo4j_cuda_malloc");
                Pointer p = out.get(0);
                device.add(p);
                return p;
            }
        }

        @Override
        public void close() {
            device.forEach(Spo4jNative::spo4j_cuda_free);
            device.clear();
            host.forEach(Pointer::close);
            host.clear();
        }

        private static void check(int status, String what) {
            if (status != Spo4jNative.SPO4J_OK) {
                throw new IllegalStateException(what + " failed: " + Spo4jNative.spo4j_last_error().getString());
            }
        }
    }

    /** CPU tensors owning copies of Java arrays, alive until {@link #release}. */
    static final class Tensors {
        private Tensors() {}

        static Tensor floats(float[] a, long... shape) {
            try (PointerScope scope = new PointerScope()) {
                long[] s = shape.length == 0 ? new long[] {a.length} : shape;
                return keep(torch.from_blob(new FloatPointer(a), s, new TensorOptions(ScalarType.Float)).clone());
            }
        }

        static Tensor ints(int[] a) {
            try (PointerScope scope = new PointerScope()) {
                return keep(torch.from_blob(new IntPointer(a), new long[] {a.length}, new TensorOptions(ScalarType.Int))
                        .clone());
            }
        }

        static Tensor longs(int[] a) {
            try (PointerScope scope = new PointerScope()) {
                return keep(torch.from_blob(new IntPointer(a), new long[] {a.length}, new TensorOptions(ScalarType.Int))
                        .to(ScalarType.Long));
            }
        }

        static Tensor bools(boolean[] a) {
            try (PointerScope scope = new PointerScope()) {
                return keep(torch.from_blob(BenchInputs.bytes(a), new long[] {a.length}, new TensorOptions(ScalarType.Byte))
                        .to(ScalarType.Bool));
            }
        }

        /** Zeroes a leaf's gradient in place, as optimizer.zero_grad(set_to_none=False) does. */
        static void zeroGrad(Tensor leaf) {
            try (PointerScope scope = new PointerScope()) {
                Tensor g = leaf.grad();
                if (g.defined()) g.zero_();
            }
        }

        private static Tensor keep(Tensor t) {
            t.retainReference();  // survives the scope's close
            return t;
        }

        static void release(Tensor... tensors) {
            for (Tensor t : tensors) {
                if (t != null) t.releaseReference();
            }
        }
    }

    // ---- machine -----------------------------------------------------------------------------------

    /** e.g. "2-core x86_64 AMD EPYC". */
    static String machine() {
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
