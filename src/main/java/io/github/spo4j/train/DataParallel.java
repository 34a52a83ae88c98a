package io.github.spo4j.train;

import io.github.spo4j.spo.data.TreeEdge;
import io.github.spo4j.train.distributed.Collective;
import io.github.spo4j.train.distributed.DistributedException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A rank's share of an iteration and the exchanges that put the shares back together. Work is split by position in
 * the iteration's global order (questions, tree edges): rank r takes the contiguous range {@link #share}, and every
 * gather concatenates the ranks' parts in rank order, so the gathered list is the one a single process builds.
 * Exchanges are timed as {@link IterationClock.Phase#COMMUNICATION}; with one process they return their input.
 */
final class DataParallel {
    private final Collective world;
    private final IterationClock clock;

    DataParallel(Collective world, IterationClock clock) {
        this.world = world;
        this.clock = clock;
    }

    /** One process: nothing is exchanged. */
    static DataParallel single(IterationClock clock) {
        return new DataParallel(Collective.single(), clock);
    }

    Collective world() {
        return world;
    }

    boolean distributed() {
        return world.worldSize() > 1;
    }

    /** Positions [from, to) of a global list. */
    record Range(int from, int to) {
        int size() {
            return to - from;
        }

        <T> List<T> of(List<T> all) {
            return all.subList(from, to);
        }
    }

    /** This rank's part of {@code count} items: contiguous, in rank order, sizes differing by at most one. */
    Range share(int count) {
        return share(count, world.rank(), world.worldSize());
    }

    static Range share(int count, int rank, int ranks) {
        return new Range((int) ((long) count * rank / ranks), (int) ((long) count * (rank + 1) / ranks));
    }

    /** Sums {@code values} over the ranks. */
    double[] sum(double... values) {
        if (!distributed()) return values;
        long start = System.nanoTime();
        world.allReduceSum(values);
        clock.stop(IterationClock.Phase.COMMUNICATION, start);
        return values;
    }

    /** Every rank's episodes, in rank order. */
    List<Episode> gatherEpisodes(List<Episode> local) {
        if (!distributed()) return local;
        return gather(local, DataParallel::writeEpisode, DataParallel::readEpisode);
    }

    /** Every rank's tree edges, in rank order. */
    List<TreeEdge> gatherEdges(List<TreeEdge> local) {
        if (!distributed()) return local;
        return gather(local, TreeReplaySource::writeEdge, TreeReplaySource::readEdge);
    }

    /** Every rank's rows, in rank order (rows may be null: an absent reference). */
    float[][] gatherRows(float[][] local) {
        if (!distributed()) return local;
        return gather(List.of(local), DataParallel::writeRow, DataParallel::readRow)
                .toArray(new float[0][]);
    }

    /**
     * Where this rank's sampler requests sit in the whole iteration's: for each key (a rollout budget), the number of
     * items the lower ranks put under it. Every rank calls this once per exchange, also with nothing to request.
     */
    Map<Integer, Integer> firstPositions(SortedMap<Integer, Integer> localSizes) {
        if (!distributed()) return Map.of();
        List<SortedMap<Integer, Integer>> all = gather(
                List.of(localSizes),
                (out, m) -> {
                    out.writeInt(m.size());
                    for (var e : m.entrySet()) {
                        out.writeInt(e.getKey());
                        out.writeInt(e.getValue());
                    }
                },
                in -> {
                    SortedMap<Integer, Integer> m = new TreeMap<>();
                    for (int i = in.readInt(); i > 0; i--) m.put(in.readInt(), in.readInt());
                    return m;
                });
        Map<Integer, Integer> first = new TreeMap<>();
        for (int r = 0; r < world.rank(); r++) all.get(r).forEach((k, v) -> first.merge(k, v, Integer::sum));
        return first;
    }

    // ---- wire format: big-endian, each rank's part a count and its items --------------------------------------------

    interface Writer<T> {
        void write(DataOutputStream out, T item) throws IOException;
    }

    interface Reader<T> {
        T read(DataInputStream in) throws IOException;
    }

    private <T> List<T> gather(List<T> local, Writer<T> writer, Reader<T> reader) {
        long start = System.nanoTime();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(local.size());
            for (T item : local) writer.write(out, item);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<byte[]> parts = world.allGather(bytes.toByteArray());
        List<T> all = new ArrayList<>();
        for (int r = 0; r < parts.size(); r++) {
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(parts.get(r)))) {
                for (int n = in.readInt(); n > 0; n--) all.add(reader.read(in));
            } catch (IOException e) {
                throw new DistributedException("rank " + r + " sent a malformed part: " + e.getMessage(), e);
            }
        }
        clock.stop(IterationClock.Phase.COMMUNICATION, start);
        return all;
    }

    static void writeInts(DataOutputStream out, int[] a) throws IOException {
        out.writeInt(a.length);
        for (int x : a) out.writeInt(x);
    }

    static int[] readInts(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > 1 << 24) throw new IOException("bad array length " + n);
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = in.readInt();
        return a;
    }

    static void writeRow(DataOutputStream out, float[] row) throws IOException {
        out.writeInt(row == null ? -1 : row.length);
        if (row != null) for (float x : row) out.writeFloat(x);
    }

    static float[] readRow(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < -1 || n > 1 << 24) throw new IOException("bad array length " + n);
        if (n == -1) return null;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = in.readFloat();
        return a;
    }

    private static void writeEpisode(DataOutputStream out, Episode e) throws IOException {
        writeInts(out, e.query());
        writeInts(out, e.response());
        writeRow(out, e.oldLogp());
        writeRow(out, e.advantages());
        writeRow(out, e.refLogp());
    }

    private static Episode readEpisode(DataInputStream in) throws IOException {
        return new Episode(readInts(in), readInts(in), readRow(in), readRow(in), readRow(in));
    }
}
