package io.github.spo4j.train.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Collectives over Gloo between worker JVMs on 127.0.0.1 ({@link CollectiveWorker}), each run bounded in time; and
 * the launch contract and the single-process world in this JVM.
 */
class CollectiveTest {
    private static final long WORKER_TIMEOUT_MS = 10_000;

    @TempDir
    Path dir;

    @Test
    void threeRanksAllReduceBroadcastGatherAndAgree() throws Exception {
        List<String> out = run("ops", 3, 90);
        for (int r = 0; r < 3; r++) assertTrue(out.get(r).contains("OK rank " + r), out.get(r));
    }

    @Test
    void aRankThatDiesEndsTheOthersWithAnErrorNamingIt() throws Exception {
        List<String> out = run("die", 2, 90);
        String survivor = out.get(0);
        assertTrue(survivor.contains("OK rank 0"), survivor);
        assertTrue(survivor.contains("all-reduce #2 failed on rank 0 of 2: rank 1 stopped"), survivor);
        long ms = Long.parseLong(survivor.replaceAll("(?s).*FAILED after (\\d+) ms.*", "$1"));
        assertTrue(ms < WORKER_TIMEOUT_MS, "failed after " + ms + " ms");
    }

    @Test
    void whenRankZeroDiesTheOthersSayItsStoreIsGone() throws Exception {
        List<String> out = run("die-rank-0", 2, 90);
        assertTrue(out.get(1).contains("OK rank 1"), out.get(1));
        assertTrue(
                out.get(1).contains("all-reduce #2 failed on rank 1 of 2: rank 0, which serves the store"), out.get(1));
    }

    @Test
    void aRankThatStallsEndsTheOthersWithinTheTimeout() throws Exception {
        List<String> out = run("stall", 2, 90, 2_000);
        assertTrue(out.get(0).contains("all-reduce #2 failed on rank 0 of 2"), out.get(0));
        assertTrue(out.get(0).contains("every other rank is alive"), out.get(0));
        assertTrue(out.get(0).contains("timed out") || out.get(0).contains("Timed out"), out.get(0));
    }

    @Test
    void ranksWithDifferentConfigsRefuseToStart() throws Exception {
        List<String> out = run("mismatch", 3, 90);
        for (int r = 0; r < 3; r++) {
            assertTrue(out.get(r).contains("REFUSED: the ranks do not run the same config"), out.get(r));
            assertTrue(out.get(r).contains("rank 2 has"), out.get(r));
            assertTrue(!out.get(r).contains("rank 1 has"), out.get(r));
        }
    }

    @Test
    void theLaunchComesFromTorchrunsVariables() {
        assertEquals(Launch.SINGLE, Launch.fromEnvironment(Map.of()));
        Launch l = Launch.fromEnvironment(Map.of(
                "RANK", "2", "WORLD_SIZE", "4", "LOCAL_RANK", "0", "MASTER_ADDR", "node1", "MASTER_PORT", "29500"));
        assertEquals(new Launch(2, 4, 0, "node1", 29500), l);
        assertTrue(l.distributed());
        assertEquals(
                new Launch(0, 1, 0, "127.0.0.1", 0), Launch.fromEnvironment(Map.of("RANK", "0", "WORLD_SIZE", "1")));
        assertEquals(
                new Launch(0, 2, 0, "node1", 29500, true, 3),
                Launch.fromEnvironment(Map.of(
                        "RANK",
                        "0",
                        "WORLD_SIZE",
                        "2",
                        "MASTER_ADDR",
                        "node1",
                        "MASTER_PORT",
                        "29500",
                        "TORCHELASTIC_USE_AGENT_STORE",
                        "True",
                        "TORCHELASTIC_RESTART_COUNT",
                        "3")));
        String[][] bad = {
            {"RANK", "0"},
            {"WORLD_SIZE", "2"},
            {"RANK", "2", "WORLD_SIZE", "2", "MASTER_ADDR", "h", "MASTER_PORT", "1"},
            {"RANK", "x", "WORLD_SIZE", "2", "MASTER_ADDR", "h", "MASTER_PORT", "1"},
            {"RANK", "0", "WORLD_SIZE", "2", "MASTER_PORT", "1"},
            {"RANK", "0", "WORLD_SIZE", "2", "MASTER_ADDR", "h"},
            {"RANK", "0", "WORLD_SIZE", "2", "MASTER_ADDR", "h", "MASTER_PORT", "70000"},
            {"RANK", "0", "WORLD_SIZE", "0"},
        };
        String[] named = {
            "WORLD_SIZE", "RANK", "RANK", "RANK", "MASTER_ADDR", "MASTER_PORT", "MASTER_PORT", "WORLD_SIZE"
        };
        for (int i = 0; i < bad.length; i++) {
            java.util.Map<String, String> env = new java.util.HashMap<>();
            for (int k = 0; k < bad[i].length; k += 2) env.put(bad[i][k], bad[i][k + 1]);
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> Launch.fromEnvironment(env), env.toString());
            assertTrue(e.getMessage().contains(named[i]), env + ": " + e.getMessage());
        }
    }

    @Test
    void oneProcessIsItsOwnWorld() {
        try (Collective c = Collective.connect(Launch.SINGLE, Duration.ofSeconds(1))) {
            double[] d = {1.5, -2};
            c.allReduceSum(d);
            assertEquals(1.5, d[0]);
            assertEquals(
                    List.of("x"),
                    c.allGather("x".getBytes(StandardCharsets.UTF_8)).stream()
                            .map(b -> new String(b, StandardCharsets.UTF_8))
                            .toList());
            assertEquals("y", new String(c.broadcast("y".getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8));
            c.barrier();
            c.requireSame("config", new byte[] {1, 2});
            assertThrows(IllegalArgumentException.class, () -> c.allReduceSum((double[]) null));
        }
        assertThrows(IllegalArgumentException.class, () -> Collective.connect(Launch.SINGLE, Duration.ZERO));
    }

    @Test
    void underTorchrunEveryRankIsAClientOfTheAgentsStore() throws Exception {
        int port = LocalRanks.freePort();
        try (PointerScope scope = new PointerScope()) {
            TCPStore agent = new TCPStore(
                    "127.0.0.1",
                    new TCPStoreOptions()
                            .port((short) port)
                            .isServer(true)
                            .waitWorkers(false)
                            .timeout(new Milliseconds(30_000)));
            agent.set("torchelastic/agent", "1"); // the agent's own keys stay apart from the workers'
            List<String> out = run(
                    "ops",
                    2,
                    90,
                    WORKER_TIMEOUT_MS,
                    port,
                    Map.of("TORCHELASTIC_USE_AGENT_STORE", "True", "TORCHELASTIC_RESTART_COUNT", "1"));
            for (int r = 0; r < 2; r++) assertTrue(out.get(r).contains("OK rank " + r), out.get(r));
            agent.close();
        }
    }

    /** Runs {@code ranks} workers of {@code scenario}; their outputs, by rank. */
    private List<String> run(String scenario, int ranks, int limitSeconds) throws Exception {
        return run(scenario, ranks, limitSeconds, WORKER_TIMEOUT_MS);
    }

    private List<String> run(String scenario, int ranks, int limitSeconds, long timeoutMs) throws Exception {
        return run(scenario, ranks, limitSeconds, timeoutMs, LocalRanks.freePort(), Map.of());
    }

    private List<String> run(
            String scenario, int ranks, int limitSeconds, long timeoutMs, int port, Map<String, String> env)
            throws Exception {
        List<Process> procs = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
            ProcessBuilder pb = LocalRanks.worker(
                    r, ranks, port, CollectiveWorker.class.getName(), List.of(scenario, Long.toString(timeoutMs)));
            pb.environment().putAll(env);
            Path log = dir.resolve(scenario + "-rank" + r + ".log");
            pb.redirectErrorStream(true).redirectOutput(log.toFile());
            procs.add(pb.start());
            logs.add(log);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(limitSeconds);
        try {
            for (Process p : procs) {
                long left = Math.max(1, deadline - System.nanoTime());
                if (!p.waitFor(left, TimeUnit.NANOSECONDS)) {
                    throw new AssertionError(scenario + ": a worker ran past " + limitSeconds + " s:\n" + read(logs));
                }
            }
        } finally {
            for (Process p : procs) p.destroyForcibly();
        }
        List<String> out = new ArrayList<>();
        for (Path log : logs) out.add(Files.readString(log));
        return out;
    }

    private static String read(List<Path> logs) throws IOException {
        StringBuilder b = new StringBuilder();
        for (Path p : logs)
            b.append("--- ").append(p.getFileName()).append('\n').append(Files.readString(p));
        return b.toString();
    }
}
