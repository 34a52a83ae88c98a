package io.github.spo4j.train.distributed;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One rank of {@link CollectiveTest}'s runs, launched in its own JVM with torchrun's variables. It checks its own
 * results and prints {@code OK rank R} (exit 0), or what went wrong (exit 1).
 */
public final class CollectiveWorker {
    private CollectiveWorker() {}

    public static void main(String[] args) throws Exception {
        String scenario = args[0];
        Duration timeout = Duration.ofMillis(Long.parseLong(args[1]));
        Launch launch = Launch.fromEnvironment(System.getenv());
        int rank = launch.rank(), world = launch.worldSize();
        try (Collective c = Collective.connect(launch, timeout)) {
            switch (scenario) {
                case "ops" -> ops(c, rank, world);
                case "die", "die-rank-0" -> {
                    int dies = scenario.equals("die") ? 1 : 0;
                    c.allReduceSum(new double[] {1});
                    if (rank == dies) Runtime.getRuntime().halt(3); // no goodbye: as a killed process
                    long start = System.nanoTime();
                    try {
                        c.allReduceSum(new double[] {1});
                        fail("the all-reduce after rank " + dies + " died returned");
                    } catch (DistributedException e) {
                        System.out.println(
                                "FAILED after " + (System.nanoTime() - start) / 1_000_000 + " ms: " + e.getMessage());
                    }
                }
                case "stall" -> {
                    c.allReduceSum(new double[] {1});
                    if (rank == 1) { // alive and beating, but makes no further call until rank 0 has given up
                        Thread.sleep(3 * timeout.toMillis());
                        System.out.println("OK rank 1");
                        System.out.flush();
                        Runtime.getRuntime().halt(0);
                    }
                    try {
                        c.allReduceSum(new double[] {1});
                        fail("the all-reduce with a stalled rank returned");
                    } catch (DistributedException e) {
                        System.out.println("FAILED: " + e.getMessage());
                        System.out.flush();
                        Runtime.getRuntime().halt(0);
                    }
                }
                case "mismatch" -> {
                    try {
                        c.requireSame(
                                "config", ("config of rank " + (rank == 2 ? 2 : 0)).getBytes(StandardCharsets.UTF_8));
                        fail("mismatched configs were accepted");
                    } catch (IllegalStateException e) {
                        System.out.println("REFUSED: " + e.getMessage());
                    }
                }
                default -> fail("unknown scenario " + scenario);
            }
        }
        System.out.println("OK rank " + rank);
        System.out.flush();
    }

    private static void ops(Collective c, int rank, int world) {
        check(c.rank() == rank && c.worldSize() == world, "rank and world size");
        double[] d = {rank + 1, 0.25 * rank, -1e300 * (rank == 0 ? 1 : 0)};
        c.allReduceSum(d);
        check(
                Arrays.equals(d, new double[] {world * (world + 1) / 2.0, 0.25 * world * (world - 1) / 2, -1e300}),
                "double sum " + Arrays.toString(d));
        float[] f = new float[1001];
        for (int i = 0; i < f.length; i++) f[i] = i * (rank + 1);
        c.allReduceSum(f);
        for (int i = 0; i < f.length; i++) check(f[i] == i * world * (world + 1) / 2f, "float sum at " + i);
        Tensor t = torch.ones(3, 5).mul(new org.bytedeco.pytorch.Scalar((double) rank));
        c.allReduceSum(t);
        float[] tv = new float[15];
        t.data_ptr_float().get(tv);
        for (float v : tv) check(v == world * (world - 1) / 2f, "tensor sum " + v);
        c.allReduceSum(new double[0]);
        byte[] b = c.broadcast(rank == 0 ? "from rank 0".getBytes(StandardCharsets.UTF_8) : null);
        check(new String(b, StandardCharsets.UTF_8).equals("from rank 0"), "broadcast");
        check(c.broadcast(rank == 0 ? new byte[0] : null).length == 0, "empty broadcast");
        byte[] mine = rank == 1
                ? new byte[0]
                : ("rank " + rank + " " + "x".repeat(rank * 7)).getBytes(StandardCharsets.UTF_8);
        List<byte[]> all = c.allGather(mine);
        check(all.size() == world, "gathered " + all.size());
        for (int r = 0; r < world; r++) {
            String expected = r == 1 ? "" : "rank " + r + " " + "x".repeat(r * 7);
            check(new String(all.get(r), StandardCharsets.UTF_8).equals(expected), "gathered from rank " + r);
        }
        c.barrier();
        c.requireSame("config", "the same".getBytes(StandardCharsets.UTF_8));
    }

    private static void check(boolean ok, String what) {
        if (!ok) fail("wrong " + what);
    }

    private static void fail(String message) {
        System.out.println("WRONG: " + message);
        System.out.flush();
        Runtime.getRuntime().halt(1);
    }
}
