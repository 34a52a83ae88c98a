package io.github.spo4j.train.distributed;

import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * The collectives a data-parallel run needs, over every rank of its {@link Launch}. Every call is made by every rank
 * in the same order; each returns within the timeout the group was made with, or throws {@link DistributedException}
 * naming the ranks that stopped answering. Sums are in rank order on every rank, so each rank gets the same bits.
 *
 * <pre>{@code
 * try (Collective world = Collective.connect(Launch.fromEnvironment(System.getenv()), Duration.ofSeconds(60))) {
 *     world.requireSame("config", configFingerprint);
 *     world.allReduceSum(gradients);
 * }
 * }</pre>
 */
public interface Collective extends AutoCloseable {
    int rank();

    int worldSize();

    /** Replaces {@code values} on every rank by their sum over the ranks. */
    void allReduceSum(double[] values);

    /** Replaces {@code values} on every rank by their sum over the ranks. */
    void allReduceSum(float[] values);

    /** Sums a contiguous float32 CPU tensor over the ranks, in place (gradients). */
    void allReduceSum(Tensor values);

    /** Rank 0's {@code bytes} on every rank (what the others pass is ignored and may be null). */
    byte[] broadcast(byte[] bytes);

    /** Every rank's {@code bytes}, in rank order. */
    List<byte[]> allGather(byte[] bytes);

    /** Returns once every rank has called it. */
    void barrier();

    /**
     * Refuses to go on unless every rank passes equal {@code fingerprint}s: each rank throws
     * {@link IllegalStateException} naming {@code what} and the ranks that differ from rank 0.
     */
    default void requireSame(String what, byte[] fingerprint) {
        if (fingerprint == null) throw new IllegalArgumentException("fingerprint must not be null");
        List<byte[]> all = allGather(fingerprint);
        StringBuilder differ = new StringBuilder();
        for (int r = 1; r < all.size(); r++) {
            if (!Arrays.equals(all.get(0), all.get(r))) {
                differ.append(differ.length() == 0 ? "" : ", ")
                        .append("rank ")
                        .append(r)
                        .append(" has ")
                        .append(hex(all.get(r)));
            }
        }
        if (differ.length() > 0) {
            throw new IllegalStateException("the ranks do not run the same " + what + ": rank 0 has " + hex(all.get(0))
                    + ", " + differ + "; start every rank with the same " + what);
        }
    }

    @Override
    void close();

    /** The world of one process: every collective returns its input. */
    static Collective single() {
        return new SingleProcess();
    }

    /**
     * Joins the run {@code launch} describes: rank 0 serves a TCP store at MASTER_ADDR:MASTER_PORT, every rank
     * connects to it and forms a Gloo process group; a single-process launch gives {@link #single()}.
     *
     * @param timeout bound on the rendezvous and on every collective
     */
    static Collective connect(Launch launch, Duration timeout) {
        if (launch == null) throw new IllegalArgumentException("launch must not be null");
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        return launch.distributed() ? GlooCollective.connect(launch, timeout) : single();
    }

    private static String hex(byte[] b) {
        String h = HexFormat.of().formatHex(b);
        return h.length() > 16 ? h.substring(0, 16) + "…" : h;
    }
}
