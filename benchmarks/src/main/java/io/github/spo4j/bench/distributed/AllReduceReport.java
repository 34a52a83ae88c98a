package io.github.spo4j.bench.distributed;

import io.github.spo4j.bench.BenchSupport;
import io.github.spo4j.bench.ResultsCsv;
import io.github.spo4j.train.distributed.Collective;
import io.github.spo4j.train.distributed.Launch;
import io.github.spo4j.train.distributed.LocalRanks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Sum all-reduce of float32 buffers from 4 KiB to 64 MiB between {@code -Dspo4j.bench.ranks} (default 2) worker JVMs
 * on 127.0.0.1 over Gloo, as the data-parallel trainer will exchange gradients. Started without torchrun's variables
 * it launches the workers (itself, with the variables set) and waits; rank 0 times each size (warm-up, then the
 * median of {@code -i} runs, each ended by the all-reduce's wait on rank 0) and writes
 * {@code benchmarks/results/allreduce_cpu.csv}: {@code time} (ms), {@code algbw} (bytes / time, GB/s) and
 * {@code busbw} (algbw · 2(W − 1)/W, the bytes each rank sends and receives in a ring all-reduce, NCCL's convention).
 * Every rank shares this machine's cores, so the figures bound what two processes on one host get, not a network.
 */
public final class AllReduceReport {
    static final long[] BYTES = {4L << 10, 64L << 10, 1L << 20, 4L << 20, 16L << 20, 64L << 20};

    private AllReduceReport() {}

    public static void main(String[] args) throws Exception {
        int warmup = 2, repeats = 7;
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("-wi")) warmup = Integer.parseInt(args[++i]);
            else if (args[i].equals("-i")) repeats = Integer.parseInt(args[++i]);
        }
        if (System.getenv("WORLD_SIZE") == null) {
            launch(Integer.getInteger("spo4j.bench.ranks", 2), args);
            return;
        }
        Launch launch = Launch.fromEnvironment(System.getenv());
        int w = launch.worldSize();
        ResultsCsv table = new ResultsCsv(
                BenchSupport.machine() + "; " + w + " ranks", LocalDate.now().toString());
        try (Collective world = Collective.connect(launch, Duration.ofSeconds(120))) {
            for (long bytes : BYTES) {
                float[] buffer = new float[Math.toIntExact(bytes / 4)];
                Arrays.fill(buffer, 1f);
                for (int i = 0; i < warmup; i++) world.allReduceSum(buffer);
                double[] ms = new double[repeats];
                for (int i = 0; i < repeats; i++) {
                    world.barrier();
                    long t0 = System.nanoTime();
                    world.allReduceSum(buffer);
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                }
                Arrays.sort(ms);
                double median = ms[repeats / 2], algbw = bytes / (median / 1e3) / 1e9;
                String shape = "W=" + w + " bytes=" + bytes;
                table.add("allreduce", "gloo", shape, "time", median, "ms");
                table.add("allreduce", "gloo", shape, "algbw", algbw, "GB/s");
                table.add("allreduce", "gloo", shape, "busbw", algbw * 2 * (w - 1) / w, "GB/s");
                if (launch.rank() == 0) {
                    System.out.printf(
                            "all-reduce %9d bytes over %d ranks: %9.3f ms, algbw %6.3f GB/s, busbw %6.3f GB/s%n",
                            bytes, w, median, algbw, algbw * 2 * (w - 1) / w);
                }
            }
        }
        if (launch.rank() == 0) {
            Path csv = Path.of(System.getProperty(
                    "spo4j.bench.csv",
                    Files.isDirectory(Path.of("benchmarks"))
                            ? "benchmarks/results/allreduce_cpu.csv"
                            : "results/allreduce_cpu.csv"));
            table.write(csv);
            System.out.println("wrote " + csv.toAbsolutePath());
        }
    }

    /** Starts {@code ranks} workers of this class on 127.0.0.1 and relays rank 0's output. */
    private static void launch(int ranks, String[] args) throws Exception {
        if (ranks < 2) throw new IllegalArgumentException("-Dspo4j.bench.ranks must be >= 2, got " + ranks);
        int port = LocalRanks.freePort();
        List<Process> workers = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
            ProcessBuilder pb = LocalRanks.worker(r, ranks, port, AllReduceReport.class.getName(), List.of(args));
            if (r == 0) pb.inheritIO();
            else pb.redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.INHERIT);
            workers.add(pb.start());
        }
        int failed = 0;
        for (Process p : workers) {
            if (!p.waitFor(10, TimeUnit.MINUTES)) p.destroyForcibly();
            if (p.exitValue() != 0) failed++;
        }
        if (failed > 0) throw new IOException(failed + " of " + ranks + " workers failed");
    }
}
