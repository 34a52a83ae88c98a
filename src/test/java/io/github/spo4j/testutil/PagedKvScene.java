package io.github.spo4j.testutil;

import io.github.spo4j.kernels.kv.KvCacheConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;

/**
 * A hand-built paged KV cache for attention tests, independent of {@code KvCache}: sequences as block
 * tables over one host allocation in the pool's layout, with prefixes shared the pool's way (full blocks by
 * id, the partial tail block copied into each child). Every slot that no sequence wrote holds NaN, so a
 * kernel that reads a position outside what it was asked to read produces NaN.
 */
public final class PagedKvScene implements AutoCloseable {
    public final KvCacheConfig config;
    public final FloatPointer cache;
    private final SplittableRandom random;
    private int nextBlock;
    public final List<int[]> tables = new ArrayList<>();
    public final List<Integer> lengths = new ArrayList<>();

    public PagedKvScene(int numLayers, int kvHeads, int headDim, int blockSize, int numBlocks, long seed) {
        config = new KvCacheConfig(numLayers, kvHeads, headDim, blockSize, numBlocks);
        cache = new FloatPointer(config.totalFloats());
        for (long i = 0; i < config.totalFloats(); i++) cache.put(i, Float.NaN);
        random = new SplittableRandom(seed);
    }

    /** A new sequence of {@code length} random tokens; returns its index. */
    public int root(int length) {
        tables.add(new int[0]);
        lengths.add(0);
        int s = tables.size() - 1;
        extend(s, length);
        return s;
    }

    /** A child of {@code parent} sharing its full blocks, with a copy of its partial tail, plus {@code extra} tokens. */
    public int fork(int parent, int extra) {
        int[] pt = tables.get(parent);
        int len = lengths.get(parent);
        int[] table = pt.clone();
        if (len % config.blockSize() != 0) {
            int copy = block();
            int tail = table[table.length - 1];
            for (int l = 0; l < config.numLayers(); l++) {
                for (int slot = 0; slot < len % config.blockSize(); slot++) {
                    for (int h = 0; h < config.kvHeads(); h++) {
                        for (int d = 0; d < config.headDim(); d++) {
                            cache.put(
                                    config.kOffset(l, copy, slot, h) + d,
                                    cache.get(config.kOffset(l, tail, slot, h) + d));
                            cache.put(
                                    config.vOffset(l, copy, slot, h) + d,
                                    cache.get(config.vOffset(l, tail, slot, h) + d));
                        }
                    }
                }
            }
            table[table.length - 1] = copy;
        }
        tables.add(table);
        lengths.add(len);
        int s = tables.size() - 1;
        extend(s, extra);
        return s;
    }

    /** Appends n random tokens to sequence s (new blocks as needed). */
    public void extend(int s, int n) {
        int len = lengths.get(s);
        int[] table = tables.get(s);
        int bs = config.blockSize();
        for (int pos = len; pos < len + n; pos++) {
            if (pos / bs >= table.length) {
                table = Arrays.copyOf(table, table.length + 1);
                table[table.length - 1] = block();
            }
            int block = table[pos / bs], slot = pos % bs;
            for (int l = 0; l < config.numLayers(); l++) {
                for (int h = 0; h < config.kvHeads(); h++) {
                    for (int d = 0; d < config.headDim(); d++) {
                        cache.put(config.kOffset(l, block, slot, h) + d, (float) random.nextGaussian());
                        cache.put(config.vOffset(l, block, slot, h) + d, (float) random.nextGaussian());
                    }
                }
            }
        }
        tables.set(s, table);
        lengths.set(s, len + n);
    }

    private int block() {
        if (nextBlock >= config.numBlocks())
            throw new IllegalStateException("scene needs more than " + config.numBlocks() + " blocks");
        return nextBlock++;
    }

    /** A full tree: a prompt, then per level every node gets {@code branching} children of {@code segment} tokens. */
    public int[] tree(int prompt, int[] branching, int segment) {
        int[] frontier = {root(prompt)};
        for (int b : branching) {
            int[] next = new int[frontier.length * b];
            int i = 0;
            for (int parent : frontier) {
                for (int c = 0; c < b; c++) next[i++] = fork(parent, segment);
            }
            frontier = next;
        }
        return frontier;
    }

    public int[][] tables(int[] seqs) {
        int[][] t = new int[seqs.length][];
        for (int i = 0; i < seqs.length; i++) t[i] = tables.get(seqs[i]);
        return t;
    }

    public int[] lengths(int[] seqs) {
        int[] l = new int[seqs.length];
        for (int i = 0; i < seqs.length; i++) l[i] = lengths.get(seqs[i]);
        return l;
    }

    /** Random finite queries [n, qHeads, headDim]. */
    public float[] queries(int n, int qHeads) {
        float[] q = new float[n * qHeads * config.headDim()];
        for (int i = 0; i < q.length; i++) q[i] = (float) random.nextGaussian();
        return q;
    }

    @Override
    public void close() {
        cache.close();
    }
}
