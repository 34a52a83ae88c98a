package io.github.spo4j.train.distributed;

import java.util.Map;

/**
 * Where this process sits in a data-parallel run, as torchrun, Slurm scripts and Kubernetes jobs describe it: the
 * environment variables {@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK}, {@code MASTER_ADDR} and
 * {@code MASTER_PORT}. Rank 0 serves the rendezvous store on {@code MASTER_PORT} of {@code MASTER_ADDR}; every rank
 * connects to it.
 *
 * @param rank          this process, in [0, worldSize)
 * @param worldSize     processes in the run, &gt;= 1
 * @param localRank     this process among those on its machine (a GPU index where there are GPUs)
 * @param masterAddress host of rank 0's store
 * @param masterPort    its TCP port, in [1, 65535] (ignored for a single process)
 * @param agentStore    the store at MASTER_ADDR:MASTER_PORT is served by the launcher, not by rank 0: torchrun's agent
 *                      does so and says it with {@code TORCHELASTIC_USE_AGENT_STORE=True}
 * @param attempt       the launcher's restart count ({@code TORCHELASTIC_RESTART_COUNT}); a restarted run's keys in the
 *                      launcher's store are kept apart from the attempts before it
 */
public record Launch(
        int rank, int worldSize, int localRank, String masterAddress, int masterPort, boolean agentStore, int attempt) {
    /** One process, no rendezvous: what a run without the variables is. */
    public static final Launch SINGLE = new Launch(0, 1, 0, "127.0.0.1", 0);

    /** A launch whose rank 0 serves the store. */
    public Launch(int rank, int worldSize, int localRank, String masterAddress, int masterPort) {
        this(rank, worldSize, localRank, masterAddress, masterPort, false, 0);
    }

    public Launch {
        if (attempt < 0) throw new IllegalArgumentException("TORCHELASTIC_RESTART_COUNT must be >= 0, got " + attempt);
        if (worldSize < 1) throw new IllegalArgumentException("WORLD_SIZE must be >= 1, got " + worldSize);
        if (rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("RANK must be in [0, WORLD_SIZE = " + worldSize + "), got " + rank);
        }
        if (localRank < 0) throw new IllegalArgumentException("LOCAL_RANK must be >= 0, got " + localRank);
        if (masterAddress == null || masterAddress.isBlank()) {
            throw new IllegalArgumentException("MASTER_ADDR must name the host of rank 0");
        }
        if (worldSize > 1 && (masterPort < 1 || masterPort > 65535)) {
            throw new IllegalArgumentException("MASTER_PORT must be in [1, 65535], got " + masterPort);
        }
    }

    /** Whether this run has more than one process. */
    public boolean distributed() {
        return worldSize > 1;
    }

    /** The launch {@code env} describes: {@link #SINGLE} when it sets none of the variables. */
    public static Launch fromEnvironment(Map<String, String> env) {
        if (env == null) throw new IllegalArgumentException("env must not be null");
        String world = env.get("WORLD_SIZE"), rank = env.get("RANK");
        if (world == null && rank == null) return SINGLE;
        if (world == null || rank == null) {
            throw new IllegalArgumentException("RANK and WORLD_SIZE go together: got "
                    + (world == null ? "RANK without WORLD_SIZE" : "WORLD_SIZE without RANK"));
        }
        int worldSize = integer(env, "WORLD_SIZE", null);
        int r = integer(env, "RANK", null);
        if (worldSize == 1) return new Launch(r, 1, integer(env, "LOCAL_RANK", "0"), "127.0.0.1", 0);
        String address = env.get("MASTER_ADDR");
        if (address == null) throw new IllegalArgumentException("MASTER_ADDR must be set when WORLD_SIZE > 1");
        if (env.get("MASTER_PORT") == null) {
            throw new IllegalArgumentException("MASTER_PORT must be set when WORLD_SIZE > 1");
        }
        return new Launch(
                r,
                worldSize,
                integer(env, "LOCAL_RANK", "0"),
                address.strip(),
                integer(env, "MASTER_PORT", null),
                "True".equals(env.get("TORCHELASTIC_USE_AGENT_STORE")),
                integer(env, "TORCHELASTIC_RESTART_COUNT", "0"));
    }

    private static int integer(Map<String, String> env, String name, String fallback) {
        String v = env.getOrDefault(name, fallback);
        try {
            return Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be an integer, got \"" + v + "\"");
        }
    }
}
