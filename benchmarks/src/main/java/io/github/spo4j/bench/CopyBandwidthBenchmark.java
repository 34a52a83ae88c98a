package io.github.spo4j.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The machine's memory copy bandwidth, the yardstick of the kernels' effective GB/s: a 256 MiB buffer
 * (far beyond any cache) copied by
 * <ul>
 *   <li>{@code memcpy}: {@link Pointer#memcpy} of off-heap memory on one thread;</li>
 *   <li>{@code memcpyThreads}: the same split in {@code -Dspo4j.bench.threads} slices (default: all
 *       cores) on as many threads, as the kernels run;</li>
 *   <li>{@code arraycopy}: {@link System#arraycopy} of a Java byte[] on one thread.</li>
 * </ul>
 * GB/s = 2 × bytes / time (every byte read once and written once, counted like the kernels' bytes).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
        value = 1,
        jvmArgsPrepend = {
            "--enable-native-access=ALL-UNNAMED",
            "-Xmx2g",
            "-Dorg.bytedeco.javacpp.cachedir=target/javacpp-cache"
        })
@State(Scope.Benchmark)
public class CopyBandwidthBenchmark {
    /** Bytes per copy: 256 MiB. */
    @Param({"268435456"})
    public long bytes;

    private BytePointer src, dst;
    private Pointer[] srcSlices, dstSlices;
    private long[] sliceBytes;
    private ExecutorService pool;
    private byte[] srcArray, dstArray;

    @Setup(Level.Trial)
    public void setup() {
        src = new BytePointer(bytes);
        dst = new BytePointer(bytes);
        Pointer.memset(src, 7, bytes); // touch every page before timing
        Pointer.memset(dst, 0, bytes);
        int threads = BenchSupport.threads();
        srcSlices = new Pointer[threads];
        dstSlices = new Pointer[threads];
        sliceBytes = new long[threads];
        for (int i = 0; i < threads; i++) {
            long start = bytes * i / threads;
            srcSlices[i] = src.getPointer(start);
            dstSlices[i] = dst.getPointer(start);
            sliceBytes[i] = bytes * (i + 1) / threads - start;
        }
        pool = Executors.newFixedThreadPool(Math.max(1, threads - 1));
        srcArray = new byte[Math.toIntExact(bytes)];
        dstArray = new byte[Math.toIntExact(bytes)];
        java.util.Arrays.fill(srcArray, (byte) 7);
        java.util.Arrays.fill(dstArray, (byte) 0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.shutdownNow();
        src.close();
        dst.close();
    }

    @Benchmark
    public Pointer memcpy() {
        return Pointer.memcpy(dst, src, bytes);
    }

    @Benchmark
    public void memcpyThreads() throws InterruptedException, ExecutionException {
        List<Future<?>> pending = new ArrayList<>();
        for (int i = 1; i < srcSlices.length; i++) {
            int k = i;
            pending.add(pool.submit(() -> Pointer.memcpy(dstSlices[k], srcSlices[k], sliceBytes[k])));
        }
        Pointer.memcpy(dstSlices[0], srcSlices[0], sliceBytes[0]);
        for (Future<?> f : pending) f.get();
    }

    @Benchmark
    public byte[] arraycopy() {
        System.arraycopy(srcArray, 0, dstArray, 0, srcArray.length);
        return dstArray;
    }
}
