package io.github.spo4j.train.distributed;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.PrefixStore;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A {@link Collective} on torch.distributed's Gloo backend: rank 0 serves a {@link TCPStore} for the rendezvous (or,
 * under torchrun, its agent does, and every rank is a client under a prefix of the launch attempt, as
 * torch.distributed's {@code env://} does), every rank joins one {@link ProcessGroupGloo} over it (one group per store), and every collective's wait is bounded by
 * the timeout. Each rank also counts a heartbeat in the store a few times a second, from a thread and a store
 * connection of its own, so that when a collective fails the survivors can name the ranks that stopped.
 */
final class GlooCollective implements Collective {
    private static final String KEY = "spo4j/heartbeat/";
    private static final long BEAT_MILLIS = 100;

    private final Launch launch;
    private final long timeoutMillis;
    private final Store store;
    private final Store tcpStore;
    private final Store beatStore;
    private final ProcessGroupGloo group;
    private final ScheduledExecutorService beats;
    private long calls;
    private boolean closed;

    private GlooCollective(
            Launch launch, long timeoutMillis, Store store, Store tcpStore, Store beatStore, ProcessGroupGloo group) {
        this.launch = launch;
        this.timeoutMillis = timeoutMillis;
        this.store = store;
        this.tcpStore = tcpStore;
        this.beatStore = beatStore;
        this.group = group;
        beats = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "spo4j-heartbeat-rank-" + launch.rank());
            t.setDaemon(true);
            return t;
        });
        String key = KEY + launch.rank();
        beats.scheduleAtFixedRate(
                () -> {
                    try {
                        beatStore.add(key, 1);
                    } catch (RuntimeException e) {
                        // The store is gone (rank 0 ended): the next collective reports it.
                    }
                },
                0,
                BEAT_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    static GlooCollective connect(Launch launch, Duration timeout) {
        long ms = Math.max(1, timeout.toMillis());
        String where = launch.masterAddress() + ":" + launch.masterPort();
        Store store;
        TCPStore tcp;
        Store beatStore;
        boolean serves = launch.rank() == 0 && !launch.agentStore();
        try (PointerScope scope = new PointerScope()) {
            TCPStoreOptions options = new TCPStoreOptions()
                    .port((short) launch.masterPort()) // uint16 in C++: ports above 32767 keep their bits
                    .isServer(serves)
                    .waitWorkers(false)
                    .timeout(new Milliseconds(ms));
            tcp = new TCPStore(launch.masterAddress(), options);
            // The prefix store refers to the TCP store without owning it from Java: both live as long as this group.
            tcp.retainReference();
            store = launch.agentStore() ? new PrefixStore("spo4j/attempt_" + launch.attempt(), tcp) : tcp;
            if (store != tcp) store.retainReference();
            beatStore = store.clone();
            beatStore.retainReference();
        } catch (RuntimeException e) {
            throw new DistributedException(
                    "rank " + launch.rank() + " of " + launch.worldSize() + " could not "
                            + (serves ? "serve" : "reach") + " the rendezvous store at " + where
                            + " within " + ms + " ms (is MASTER_ADDR:MASTER_PORT right, the port free on rank 0"
                            + " and open to the others?): " + e.getMessage(),
                    e);
        }
        ProcessGroupGloo group;
        try (PointerScope scope = new PointerScope()) {
            String ifname = System.getenv("GLOO_SOCKET_IFNAME");
            ProcessGroupGloo.Options options = ProcessGroupGloo.Options.create(new Milliseconds(ms));
            options.devices(new GlooDeviceVector(
                    ifname != null && !ifname.isBlank()
                            ? ProcessGroupGloo.createDeviceForInterface(ifname.strip())
                            : ProcessGroupGloo.createDeviceForHostname(localHost(launch))));
            group = new ProcessGroupGloo(store, launch.rank(), launch.worldSize(), options);
            group.retainReference();
        } catch (RuntimeException e) {
            beatStore.releaseReference();
            if (store != tcp) store.releaseReference();
            tcp.releaseReference();
            throw new DistributedException(
                    "rank " + launch.rank() + " of " + launch.worldSize() + " could not form the Gloo group through "
                            + where + " within " + ms + " ms (did every rank start?): " + e.getMessage(),
                    e);
        }
        return new GlooCollective(launch, ms, store, tcp, beatStore, group);
    }

    /** The address this rank's Gloo device binds: loopback for a run on one machine, else this host's name. */
    private static String localHost(Launch launch) {
        String master = launch.masterAddress();
        if (master.equals("localhost") || master.startsWith("127.")) return "127.0.0.1";
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            throw new DistributedException("this host has no name to bind Gloo to; set GLOO_SOCKET_IFNAME", e);
        }
    }

    @Override
    public int rank() {
        return launch.rank();
    }

    @Override
    public int worldSize() {
        return launch.worldSize();
    }

    @Override
    public synchronized void allReduceSum(double[] values) {
        if (values == null) throw new IllegalArgumentException("values must not be null");
        if (values.length == 0) return;
        try (PointerScope scope = new PointerScope()) {
            DoublePointer p = new DoublePointer(values);
            allReduce(p, values.length, ScalarType.Double);
            p.get(values);
        }
    }

    @Override
    public synchronized void allReduceSum(float[] values) {
        if (values == null) throw new IllegalArgumentException("values must not be null");
        if (values.length == 0) return;
        try (PointerScope scope = new PointerScope()) {
            FloatPointer p = new FloatPointer(values);
            allReduce(p, values.length, ScalarType.Float);
            p.get(values);
        }
    }

    @Override
    public synchronized void allReduceSum(Tensor values) {
        checkTensor(values);
        if (values.numel() == 0) return;
        try (PointerScope scope = new PointerScope()) {
            allReduce(values);
        }
    }

    @Override
    public synchronized byte[] broadcast(byte[] bytes) {
        if (rank() == 0 && bytes == null) throw new IllegalArgumentException("rank 0's bytes must not be null");
        try (PointerScope scope = new PointerScope()) {
            LongPointer length = new LongPointer(1).put(rank() == 0 ? bytes.length : 0);
            broadcastFromZero(torch.from_blob(length, new long[] {1}, new TensorOptions(ScalarType.Long)));
            int n = Math.toIntExact(length.get());
            byte[] out = rank() == 0 ? bytes.clone() : new byte[n];
            if (n == 0) return out;
            BytePointer data = new BytePointer(n);
            if (rank() == 0) data.put(bytes);
            broadcastFromZero(torch.from_blob(data, new long[] {n}, new TensorOptions(ScalarType.Byte)));
            data.get(out);
            return out;
        }
    }

    @Override
    public synchronized List<byte[]> allGather(byte[] bytes) {
        if (bytes == null) throw new IllegalArgumentException("bytes must not be null");
        int w = worldSize();
        try (PointerScope scope = new PointerScope()) {
            // Each rank fills its own slot of zeros, so the sums are the slots: exact for any bytes.
            LongPointer lengths = new LongPointer(w).fill(0);
            lengths.put(rank(), bytes.length);
            allReduce(lengths, w, ScalarType.Long);
            long[] n = new long[w];
            lengths.get(n);
            long[] offsets = new long[w + 1];
            for (int r = 0; r < w; r++) offsets[r + 1] = offsets[r] + n[r];
            List<byte[]> out = new ArrayList<>(w);
            if (offsets[w] > 0) {
                BytePointer data = new BytePointer(offsets[w]).fill(0);
                data.position(offsets[rank()]).put(bytes).position(0);
                allReduce(data, offsets[w], ScalarType.Byte);
                for (int r = 0; r < w; r++) {
                    byte[] b = new byte[Math.toIntExact(n[r])];
                    data.position(offsets[r]).get(b);
                    out.add(b);
                }
                data.position(0);
            } else {
                for (int r = 0; r < w; r++) out.add(new byte[0]);
            }
            return out;
        }
    }

    @Override
    public synchronized void barrier() {
        String op = "barrier #" + (++calls);
        try (PointerScope scope = new PointerScope()) {
            await(group.barrier(), op);
        } catch (RuntimeException e) {
            throw e instanceof DistributedException ? e : failure(op, e);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        beats.shutdownNow();
        try {
            beats.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        group.releaseReference();
        beatStore.releaseReference();
        if (store != tcpStore) store.releaseReference();
        tcpStore.releaseReference();
    }

    static void checkTensor(Tensor values) {
        if (values == null) throw new IllegalArgumentException("values must not be null");
        if (values.scalar_type().value != ScalarType.Float.value) {
            throw new IllegalArgumentException("values must be float32, got " + values.scalar_type());
        }
        if (!values.device().is_cpu()) throw new IllegalArgumentException("values must be on the CPU (Gloo)");
        if (!values.is_contiguous()) throw new IllegalArgumentException("values must be contiguous");
    }

    /** Sums {@code n} values of {@code type} at {@code p} over the ranks, in place (caller's scope). */
    private void allReduce(Pointer p, long n, ScalarType type) {
        allReduce(torch.from_blob(p, new long[] {n}, new TensorOptions(type)));
    }

    private void allReduce(Tensor t) {
        String op = "all-reduce #" + (++calls);
        try {
            await(group.allreduce(new TensorVector(t)), op);
        } catch (RuntimeException e) {
            throw e instanceof DistributedException ? e : failure(op, e);
        }
    }

    private void broadcastFromZero(Tensor t) {
        String op = "broadcast #" + (++calls);
        try {
            await(group.broadcast(new TensorVector(t), new BroadcastOptions().rootRank(0)), op);
        } catch (RuntimeException e) {
            throw e instanceof DistributedException ? e : failure(op, e);
        }
    }

    private void await(Work work, String op) {
        if (closed) throw new IllegalStateException("the collective is closed");
        boolean done;
        try {
            done = work._wait(new Milliseconds(timeoutMillis));
        } catch (RuntimeException e) {
            throw failure(op, e);
        }
        if (!done) throw failure(op, null);
    }

    /** The failure of {@code op}, naming the ranks whose heartbeat stopped (read twice, a few beats apart). */
    private DistributedException failure(String op, Throwable cause) {
        String stalled;
        try {
            long[] before = heartbeats();
            Thread.sleep(4 * BEAT_MILLIS);
            long[] after = heartbeats();
            List<Integer> quiet = new ArrayList<>();
            for (int r = 0; r < worldSize(); r++) if (r != rank() && after[r] == before[r]) quiet.add(r);
            stalled = quiet.isEmpty()
                    ? "every other rank is alive, so one has not made this call (it stalls, or makes another)"
                    : (quiet.size() == 1 ? "rank " : "ranks ") + join(quiet) + " stopped (no heartbeat)";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stalled = "interrupted while checking the other ranks";
        } catch (RuntimeException e) {
            stalled = (launch.agentStore() ? "the launcher's store at " : "rank 0, which serves the store at ")
                    + launch.masterAddress() + ":" + launch.masterPort() + ", is unreachable";
        }
        String why = cause == null ? "timed out after " + timeoutMillis + " ms" : firstLine(cause.getMessage());
        return new DistributedException(
                op + " failed on rank " + rank() + " of " + worldSize() + ": " + stalled + "; " + why, cause);
    }

    /** A native error's first line without its source location: c10d appends a C++ backtrace. */
    static String firstLine(String message) {
        if (message == null) return "no message";
        String line = message.strip().lines().findFirst().orElse("");
        return line.replaceFirst("^\\[[^\\]]*\\.(cc|cpp|h):\\d+\\]\\s*", "");
    }

    private long[] heartbeats() {
        long[] out = new long[worldSize()];
        for (int r = 0; r < out.length; r++) out[r] = store.add(KEY + r, 0);
        return out;
    }

    private static String join(List<Integer> ranks) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < ranks.size(); i++) b.append(i == 0 ? "" : ", ").append(ranks.get(i));
        return b.toString();
    }
}
