package io.github.spo4j.train.distributed;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The ranks of a run on this machine: JVMs of a main class on this JVM's class path, each with torchrun's variables
 * for rank 0's store on 127.0.0.1. The caller starts them and directs their output.
 */
public final class LocalRanks {
    /** System properties a worker inherits from this JVM when set (where the natives are unpacked, results go). */
    static final List<String> INHERITED =
            List.of("org.bytedeco.javacpp.cachedir", "org.bytedeco.javacpp.maxPhysicalBytes", "spo4j.bench.csv");

    private LocalRanks() {}

    /** A TCP port free on this machine now, for rank 0's store. */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /**
     * The process of {@code rank} of {@code ranks}: {@code java -cp <this class path> mainClass args...} with RANK,
     * WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR = 127.0.0.1 and MASTER_PORT = {@code port} set (and GLOO_SOCKET_IFNAME
     * cleared, so Gloo binds to loopback).
     */
    public static ProcessBuilder worker(int rank, int ranks, int port, String mainClass, List<String> args) {
        if (ranks < 1 || rank < 0 || rank >= ranks) {
            throw new IllegalArgumentException("rank must be in [0, ranks = " + ranks + "), got " + rank);
        }
        if (port < 1 || port > 65535) throw new IllegalArgumentException("port must be in [1, 65535], got " + port);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        for (String p : INHERITED) if (System.getProperty(p) != null) cmd.add("-D" + p + "=" + System.getProperty(p));
        cmd.add(mainClass);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        env.put("RANK", Integer.toString(rank));
        env.put("WORLD_SIZE", Integer.toString(ranks));
        env.put("LOCAL_RANK", Integer.toString(rank));
        env.put("LOCAL_WORLD_SIZE", Integer.toString(ranks));
        env.put("MASTER_ADDR", "127.0.0.1");
        env.put("MASTER_PORT", Integer.toString(port));
        env.remove("GLOO_SOCKET_IFNAME");
        return pb;
    }
}
