package io.github.spo4j.kernels.attention;

import io.github.spo4j.kernels.engine.Checks;
import io.github.spo4j.kernels.kv.KvCache;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * Which cached keys each query of a {@link PrefixAttention} call reads, as <em>parts</em>: part p attends
 * one block table over the positions {@code [begin, end)} for a list of queries at once, and each query
 * merges the states of its parts by their log-sum-exp. A query only sees positions below its limit (its
 * sequence length in decode, its own position + 1 in causal prefill).
 *
 * <p>Three ready-made plans:
 * <ul>
 *   <li>{@link #decode}: one part per sequence over its whole block table (plain paged attention);</li>
 *   <li>{@link #decodeShared}: sequences whose block tables start with the same blocks are grouped, every
 *       shared run of at least {@code minSharedTokens} positions becomes one part for the whole group, and
 *       groups nest (a tree's prompt, then each level's segment); the rest of each sequence is its own part;</li>
 *   <li>{@link #prefill}: a chunk of new tokens per sequence, causal over its cached prefix.</li>
 * </ul>
 * {@link #builder} makes any other plan; {@link Builder#build()} checks it (indices in range, and the parts
 * of one query cover disjoint positions, so the merge is exact attention).
 *
 * <p>A plan holds positions and block ids, not data: it stays valid while the block tables it was made
 * from are unchanged (new tokens in later layers of the same step are fine; a new step needs a new plan).
 * Instances are immutable. The native kernels read a copy of the plan in native memory, made at the first call
 * and kept for the next (a step's later layers); {@link #close()} frees it at once instead of when the plan is
 * garbage-collected, and a later call makes it again.
 */
public final class PrefixAttentionPlan implements AutoCloseable {
    final int blockSize;
    final int numQueries;
    final int[] queryLimit;
    final int[] tableOffsets;
    final int[] tableBlocks;
    final int[] partTable;
    final int[] partBegin;
    final int[] partEnd;
    final int[] partQueryOffsets;
    final int[] partQueries;
    final int[] queryEntryOffsets;
    final int[] queryEntries;
    private volatile Native nativeArrays;

    private PrefixAttentionPlan(Builder b) {
        int parts = b.parts.size();
        blockSize = b.blockSize;
        numQueries = b.numQueries;
        queryLimit = b.limit.clone();
        tableOffsets = new int[b.tables.size() + 1];
        int blocks = 0;
        for (int t = 0; t < b.tables.size(); t++) {
            blocks += b.tables.get(t).length;
            tableOffsets[t + 1] = blocks;
        }
        tableBlocks = new int[blocks];
        for (int t = 0; t < b.tables.size(); t++) {
            System.arraycopy(b.tables.get(t), 0, tableBlocks, tableOffsets[t], b.tables.get(t).length);
        }
        partTable = new int[parts];
        partBegin = new int[parts];
        partEnd = new int[parts];
        partQueryOffsets = new int[parts + 1];
        for (int p = 0; p < parts; p++) {
            Part part = b.parts.get(p);
            partTable[p] = part.table;
            partBegin[p] = part.begin;
            partEnd[p] = part.end;
            partQueryOffsets[p + 1] = partQueryOffsets[p] + part.queries.length;
        }
        partQueries = new int[partQueryOffsets[parts]];
        int[] entriesPerQuery = new int[numQueries];
        for (int p = 0; p < parts; p++) {
            int[] qs = b.parts.get(p).queries;
            System.arraycopy(qs, 0, partQueries, partQueryOffsets[p], qs.length);
            for (int q : qs) entriesPerQuery[q]++;
        }
        // A query merges its entries in part order: the order the builder saw them, prefix parts first.
        queryEntryOffsets = new int[numQueries + 1];
        for (int q = 0; q < numQueries; q++) queryEntryOffsets[q + 1] = queryEntryOffsets[q] + entriesPerQuery[q];
        queryEntries = new int[partQueries.length];
        int[] next = Arrays.copyOf(queryEntryOffsets, numQueries);
        for (int e = 0; e < partQueries.length; e++) queryEntries[next[partQueries[e]]++] = e;
    }

    /** One part per sequence, {@code [0, lengths[b])} of its table: plain paged decode, query b = sequence b. */
    public static PrefixAttentionPlan decode(int[][] blockTables, int[] lengths, int blockSize) {
        checkTables(blockTables, lengths, blockSize);
        Builder b = builder(blockTables.length, blockSize);
        for (int s = 0; s < blockTables.length; s++) {
            b.limit(s, lengths[s]);
            if (lengths[s] > 0) b.part(b.table(blockTables[s]), 0, lengths[s], s);
        }
        return b.build();
    }

    /**
     * Decode with shared prefixes: query b = sequence b. Sequences whose tables hold the same block at the
     * same index hold the same keys there, so a run of positions that a group shares (all its members'
     * tables agree on those blocks, and all are at least that long) is attended once for the group when it
     * is at least {@code minSharedTokens} long and the group has two or more members. Sharing is decided top
     * down: below a run too short to share, each sequence attends the rest of its positions alone.
     */
    public static PrefixAttentionPlan decodeShared(
            int[][] blockTables, int[] lengths, int blockSize, int minSharedTokens) {
        checkTables(blockTables, lengths, blockSize);
        Checks.require(minSharedTokens >= 1, "minSharedTokens must be >= 1, got " + minSharedTokens);
        Builder b = builder(blockTables.length, blockSize);
        int[] tableOf = new int[blockTables.length];
        for (int s = 0; s < blockTables.length; s++) {
            b.limit(s, lengths[s]);
            tableOf[s] = b.table(blockTables[s]);
        }
        int[] all = new int[blockTables.length];
        for (int s = 0; s < all.length; s++) all[s] = s;
        for (int[] group : groupByBlock(all, 0, blockTables, lengths, blockSize)) {
            share(b, group, 0, blockTables, lengths, blockSize, minSharedTokens, tableOf);
        }
        return b.build();
    }

    private static void share(
            Builder b,
            int[] group,
            int start,
            int[][] tables,
            int[] lengths,
            int blockSize,
            int minShared,
            int[] tableOf) {
        int end = Integer.MAX_VALUE;
        for (int s : group) end = Math.min(end, lengths[s]);
        if (group.length >= 2) {
            int first = group[0];
            int k = start / blockSize;
            outer:
            while ((long) k * blockSize < end) {
                for (int s : group) {
                    if (k >= tables[s].length || tables[s][k] != tables[first][k]) break outer;
                }
                k++;
            }
            end = (int) Math.min(end, (long) k * blockSize);
        }
        if (group.length < 2 || end - start < minShared) {
            for (int s : group) {
                if (lengths[s] > start) b.part(tableOf[s], start, lengths[s], s);
            }
            return;
        }
        int sharedEnd = end;
        b.part(tableOf[group[0]], start, sharedEnd, group);
        int[] rest = Arrays.stream(group).filter(s -> lengths[s] > sharedEnd).toArray();
        for (int[] sub : groupByBlock(rest, sharedEnd, tables, lengths, blockSize)) {
            share(b, sub, sharedEnd, tables, lengths, blockSize, minShared, tableOf);
        }
    }

    /** Splits sequences (all longer than {@code pos}) by the block holding position {@code pos}, in first-seen order. */
    private static List<int[]> groupByBlock(int[] seqs, int pos, int[][] tables, int[] lengths, int blockSize) {
        List<int[]> groups = new ArrayList<>();
        boolean[] taken = new boolean[seqs.length];
        int k = pos / blockSize;
        for (int i = 0; i < seqs.length; i++) {
            if (taken[i] || lengths[seqs[i]] <= pos) continue;
            int block = tables[seqs[i]][k];
            int[] g = new int[seqs.length];
            int n = 0;
            for (int j = i; j < seqs.length; j++) {
                if (!taken[j] && lengths[seqs[j]] > pos && tables[seqs[j]][k] == block) {
                    taken[j] = true;
                    g[n++] = seqs[j];
                }
            }
            groups.add(Arrays.copyOf(g, n));
        }
        return groups;
    }

    /**
     * Causal prefill: sequence b has {@code kvLengths[b]} cached positions, the last {@code newTokens[b]} of
     * which are the new tokens whose queries this call computes. The queries are laid out sequence by
     * sequence (query offsets = prefix sums of newTokens), and the new token at position {@code pos} sees
     * positions {@code [0, pos]}.
     */
    public static PrefixAttentionPlan prefill(int[][] blockTables, int[] kvLengths, int[] newTokens, int blockSize) {
        checkTables(blockTables, kvLengths, blockSize);
        Checks.notNull(newTokens, "newTokens");
        Checks.length(newTokens.length, blockTables.length, "newTokens");
        long total = 0;
        for (int s = 0; s < newTokens.length; s++) {
            Checks.require(
                    newTokens[s] >= 0 && newTokens[s] <= kvLengths[s],
                    "newTokens[" + s + "] = " + newTokens[s] + " must be in [0, kvLengths[" + s + "] = " + kvLengths[s]
                            + "]");
            total += newTokens[s];
        }
        Checks.require(total <= Integer.MAX_VALUE, "too many new tokens: " + total);
        Builder b = builder((int) total, blockSize);
        int q = 0;
        for (int s = 0; s < blockTables.length; s++) {
            if (newTokens[s] == 0) continue;
            int[] queries = new int[newTokens[s]];
            for (int j = 0; j < newTokens[s]; j++) {
                queries[j] = q;
                b.limit(q++, kvLengths[s] - newTokens[s] + j + 1);
            }
            b.part(b.table(blockTables[s]), 0, kvLengths[s], queries);
        }
        return b.build();
    }

    /** {@link #decode(int[][], int[], int)} for sequences of a pool, at their lengths in {@code layer}. */
    public static PrefixAttentionPlan decode(KvCache pool, int[] seqs, int layer) {
        return decode(
                tables(pool, seqs), lengths(pool, seqs, layer), pool.config().blockSize());
    }

    /** {@link #decodeShared(int[][], int[], int, int)} for sequences of a pool, at their lengths in {@code layer}. */
    public static PrefixAttentionPlan decodeShared(KvCache pool, int[] seqs, int layer, int minSharedTokens) {
        return decodeShared(
                tables(pool, seqs), lengths(pool, seqs, layer), pool.config().blockSize(), minSharedTokens);
    }

    /** {@link #prefill(int[][], int[], int[], int)} for sequences of a pool, whose last newTokens in {@code layer} are new. */
    public static PrefixAttentionPlan prefill(KvCache pool, int[] seqs, int layer, int[] newTokens) {
        return prefill(
                tables(pool, seqs),
                lengths(pool, seqs, layer),
                newTokens,
                pool.config().blockSize());
    }

    private static int[][] tables(KvCache pool, int[] seqs) {
        Checks.notNull(pool, "pool");
        Checks.notNull(seqs, "seqs");
        int[][] t = new int[seqs.length][];
        for (int i = 0; i < seqs.length; i++) t[i] = pool.blockTable(seqs[i]);
        return t;
    }

    private static int[] lengths(KvCache pool, int[] seqs, int layer) {
        int[] l = new int[seqs.length];
        for (int i = 0; i < seqs.length; i++) l[i] = pool.length(seqs[i], layer);
        return l;
    }

    private static void checkTables(int[][] blockTables, int[] lengths, int blockSize) {
        Checks.notNull(blockTables, "blockTables");
        Checks.notNull(lengths, "lengths");
        Checks.require(blockSize >= 1, "blockSize must be >= 1, got " + blockSize);
        Checks.length(lengths.length, blockTables.length, "lengths");
        for (int s = 0; s < blockTables.length; s++) {
            Checks.notNull(blockTables[s], "blockTables[" + s + "]");
            Checks.require(
                    lengths[s] >= 0 && lengths[s] <= (long) blockTables[s].length * blockSize,
                    "lengths[" + s + "] = " + lengths[s] + " must be in [0, " + (long) blockTables[s].length * blockSize
                            + "] (blockTables[" + s + "] has " + blockTables[s].length + " blocks of " + blockSize
                            + ")");
        }
    }

    /** A builder for a plan over {@code numQueries} queries, with tables of {@code blockSize}-position blocks. */
    public static Builder builder(int numQueries, int blockSize) {
        Checks.require(numQueries >= 0, "numQueries must be >= 0, got " + numQueries);
        Checks.require(blockSize >= 1, "blockSize must be >= 1, got " + blockSize);
        return new Builder(numQueries, blockSize);
    }

    public int blockSize() {
        return blockSize;
    }

    public int numQueries() {
        return numQueries;
    }

    public int numParts() {
        return partTable.length;
    }

    /** Parts that serve more than one query. */
    public int sharedParts() {
        int n = 0;
        for (int p = 0; p < partTable.length; p++) n += partQueryOffsets[p + 1] - partQueryOffsets[p] > 1 ? 1 : 0;
        return n;
    }

    /** Cached positions this plan reads per KV head: each part's visible range once. */
    public long positionsRead() {
        long n = 0;
        for (int p = 0; p < partTable.length; p++) {
            int maxLimit = 0;
            for (int e = partQueryOffsets[p]; e < partQueryOffsets[p + 1]; e++) {
                maxLimit = Math.max(maxLimit, queryLimit[partQueries[e]]);
            }
            n += Math.max(0, Math.min(partEnd[p], maxLimit) - partBegin[p]);
        }
        return n;
    }

    /** Cached positions an unshared call reads per KV head: every query's visible positions, its own copy. */
    public long positionsReadUnshared() {
        long n = 0;
        for (int e = 0; e < partQueries.length; e++) {
            int p = partOfEntry(e);
            n += Math.max(0, Math.min(partEnd[p], queryLimit[partQueries[e]]) - partBegin[p]);
        }
        return n;
    }

    /** The part of entry e: the last part whose first entry is at or before e (empty parts are skipped). */
    int partOfEntry(int e) {
        int lo = 0, hi = partTable.length - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (partQueryOffsets[mid] <= e) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }

    /** The plan's index arrays in native memory, made once (host memory: the C API reads plans on the host). */
    Native nativeArrays() {
        Native n = nativeArrays;
        if (n == null) {
            synchronized (this) {
                n = nativeArrays;
                if (n == null) {
                    // Made in a scope of their own and retained: a caller's scope would free them when it
                    // closes while the plan, which caches them, lives on. They are freed with the plan.
                    try (PointerScope own = new PointerScope()) {
                        n = new Native(
                                ints(queryLimit),
                                ints(tableOffsets),
                                ints(tableBlocks),
                                ints(partTable),
                                ints(partBegin),
                                ints(partEnd),
                                ints(partQueryOffsets),
                                ints(partQueries),
                                ints(queryEntryOffsets),
                                ints(queryEntries));
                    }
                    nativeArrays = n;
                }
            }
        }
        return n;
    }

    /** Frees the native copy of the plan, if one was made; the plan stays usable. Not while a call is using it. */
    @Override
    public void close() {
        Native n;
        synchronized (this) {
            n = nativeArrays;
            nativeArrays = null;
        }
        if (n != null) n.free();
    }

    private static IntPointer ints(int[] a) {
        IntPointer p = new IntPointer(a.length == 0 ? new int[] {0} : a); // a valid pointer even when empty
        p.retainReference();
        return p;
    }

    record Native(
            IntPointer queryLimit,
            IntPointer tableOffsets,
            IntPointer tableBlocks,
            IntPointer partTable,
            IntPointer partBegin,
            IntPointer partEnd,
            IntPointer partQueryOffsets,
            IntPointer partQueries,
            IntPointer queryEntryOffsets,
            IntPointer queryEntries) {
        void free() {
            for (IntPointer p : new IntPointer[] {
                queryLimit,
                tableOffsets,
                tableBlocks,
                partTable,
                partBegin,
                partEnd,
                partQueryOffsets,
                partQueries,
                queryEntryOffsets,
                queryEntries
            }) p.releaseReference();
        }
    }

    /** The query limit of query q. */
    public int queryLimit(int q) {
        return queryLimit[q];
    }

    @Override
    public String toString() {
        return "PrefixAttentionPlan[queries=" + numQueries + ", parts=" + numParts() + ", shared=" + sharedParts()
                + ", positionsRead=" + positionsRead() + " (unshared " + positionsReadUnshared() + ")]";
    }

    /** Collects tables, query limits and parts; {@link #build()} checks them. Not thread-safe. */
    public static final class Builder {
        private final int numQueries;
        private final int blockSize;
        private final int[] limit;
        private final List<int[]> tables = new ArrayList<>();
        private final List<Part> parts = new ArrayList<>();

        private Builder(int numQueries, int blockSize) {
            this.numQueries = numQueries;
            this.blockSize = blockSize;
            this.limit = new int[numQueries];
            Arrays.fill(limit, -1);
        }

        /** Adds a block table (block ids in position order) and returns its index. */
        public int table(int[] blocks) {
            Checks.notNull(blocks, "blocks");
            for (int i = 0; i < blocks.length; i++) {
                Checks.require(blocks[i] >= 0, "blocks[" + i + "] = " + blocks[i] + " must be >= 0");
            }
            tables.add(blocks.clone());
            return tables.size() - 1;
        }

        /** Query q sees positions below {@code limit}. Every query needs one. */
        public Builder limit(int q, int limit) {
            Checks.require(q >= 0 && q < numQueries, "query " + q + " is outside [0, " + numQueries + ")");
            Checks.require(limit >= 0, "limit of query " + q + " must be >= 0, got " + limit);
            this.limit[q] = limit;
            return this;
        }

        /** Table {@code table} attends positions [begin, end) for each of {@code queries}. */
        public Builder part(int table, int begin, int end, int... queries) {
            Checks.require(
                    table >= 0 && table < tables.size(), "table " + table + " is outside [0, " + tables.size() + ")");
            Checks.notNull(queries, "queries");
            long capacity = (long) tables.get(table).length * blockSize;
            Checks.require(
                    begin >= 0 && begin <= end && end <= capacity,
                    "part [" + begin + ", " + end
                            + ") must lie in [0, " + capacity + "] (table " + table + " has " + tables.get(table).length
                            + " blocks of " + blockSize + ")");
            for (int q : queries) {
                Checks.require(q >= 0 && q < numQueries, "query " + q + " is outside [0, " + numQueries + ")");
            }
            parts.add(new Part(table, begin, end, queries.clone()));
            return this;
        }

        /** The plan; throws if a query has no limit or two parts of one query overlap. */
        public PrefixAttentionPlan build() {
            for (int q = 0; q < numQueries; q++) {
                Checks.require(limit[q] >= 0, "query " + q + " has no limit");
            }
            List<List<int[]>> ranges = new ArrayList<>(numQueries);
            for (int q = 0; q < numQueries; q++) ranges.add(new ArrayList<>());
            for (int p = 0; p < parts.size(); p++) {
                Part part = parts.get(p);
                for (int q : part.queries) ranges.get(q).add(new int[] {part.begin, part.end, p});
            }
            for (int q = 0; q < numQueries; q++) {
                List<int[]> r = ranges.get(q);
                r.sort((x, y) -> Integer.compare(x[0], y[0]));
                for (int i = 1; i < r.size(); i++) {
                    Checks.require(
                            r.get(i)[0] >= r.get(i - 1)[1],
                            "query " + q + " is in parts " + r.get(i - 1)[2] + " and " + r.get(i)[2]
                                    + ", whose positions overlap");
                }
            }
            return new PrefixAttentionPlan(this);
        }
    }

    private record Part(int table, int begin, int end, int[] queries) {}
}
