package io.github.spo4j.kernels.kv;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.engine.Checks;
import io.github.spo4j.kernels.engine.CudaRuntime;
import io.github.spo4j.kernels.engine.DeviceMemory;
import io.github.spo4j.kernels.engine.KernelCall;
import io.github.spo4j.kernels.engine.KernelCall.Arg;
import io.github.spo4j.kernels.engine.NativeLibrary;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A paged KV cache shared by sequences that fork (vLLM's block manager, PREFIX_SHARING.md §1): each sequence
 * maps its token positions to fixed-size blocks through a block table; {@link #fork} gives children the
 * parent's blocks by reference (ref-counted, no copy), and the first write into a block held by more than one
 * table copies that block first (copy-on-write: in a tree of continuations only the partial tail block of a
 * prefix is ever copied, once per branch that writes into it).
 *
 * <p><b>Storage</b> (the contract the attention kernels read): one fp32 allocation laid out
 * {@code [L][2][numBlocks][blockSize][Hkv][D]} row-major; the K row of (layer l, block b, slot s, head h) starts
 * at float {@code ((((long) l * 2 + 0) * numBlocks + b) * blockSize + s) * Hkv * D + h * D}, V at the same with
 * {@code + 1} ({@link KvCacheConfig#kOffset}). Position {@code pos} of a sequence lives in block
 * {@code blockTable(seq)[pos / blockSize]}, slot {@code pos % blockSize}. Host memory on {@link Backend#CPU} and
 * {@link Backend#REFERENCE} (where Java does the writes and copies), device memory on {@link Backend#CUDA}.
 * Slots never written hold unspecified values (zeros on the host backends).
 *
 * <p><b>Semantics.</b> {@code append} writes n tokens at one layer at positions {@code length(seq, layer) ..
 * + n}; layers advance independently and a sequence's blocks cover the longest layer. Blocks are allocated as
 * appends need them, lowest free block first (deterministic). A write into a block with ref-count > 1,
 * whoever writes (the parent too), first copies the block into a fresh one: all layers' K and V of the
 * block's written slots (the most of any layer), in one native call for all copies of an append; the table
 * entry is replaced and the old block's count drops. When several sequences of one {@link #appendBatch}
 * write into the same shared block, the last of them in {@code seqs} order that still shares it keeps it.
 * Every operation computes the blocks it needs before it changes anything; if they exceed the free blocks it
 * throws {@link KvCacheExhaustedException} and the pool is unchanged. {@link #fork} needs no block.
 *
 * <p><b>Checks.</b> Unknown or released ids, a layer out of range, k/v of the wrong size or no tokens, and
 * repeated ids in a batch are {@link IllegalArgumentException}s naming the argument; any use after
 * {@link #close} is an {@link IllegalStateException}. K/V values are not checked for NaN (they are
 * activations; they are stored as given).
 *
 * <p>Thread-safe: every method is {@code synchronized} on the pool.
 *
 * <pre>{@code
 * try (KvCache pool = KvCache.create(new KvCacheConfig(layers, kvHeads, headDim, 16, blocks))) {
 *     int prompt = pool.newSequence();
 *     for (int l = 0; l < layers; l++) pool.append(prompt, l, kPrompt[l], vPrompt[l]);   // [512, Hkv, D]
 *     int[] branches = pool.fork(prompt, 6);                                             // shares every block
 *     pool.release(prompt);
 *     for (int l = 0; l < layers; l++) pool.appendBatch(branches, l, kStep[l], vStep[l]); // one token each
 * }
 * }</pre>
 */
public final class KvCache implements AutoCloseable {
    private final KvCacheConfig config;
    private final Backend backend;
    private final int bs;
    private final int row;
    private FloatPointer storage; // host storage, or a FloatPointer view of deviceStorage
    private DeviceMemory deviceStorage; // CUDA only
    private final int cudaDevice; // the CUDA device of deviceStorage; -1 in host memory

    private final int[] refCount;
    private final int[] fill; // written slots of each block (the most of any layer); 0 when free
    private final BitSet free;
    private int freeCount;
    private long uniqueTokens;
    private long structureVersion;
    private long copyOnWrites;
    private int peakBlocks;
    private final ArrayList<Seq> seqs = new ArrayList<>(); // by id; null once released
    private int live;

    private static final class Seq {
        final int[] length;
        int[] table;
        int blocks;

        Seq(int layers) {
            length = new int[layers];
            table = new int[4];
        }

        Seq(Seq parent) {
            length = parent.length.clone();
            table = Arrays.copyOf(parent.table, Math.max(parent.blocks, 4));
            blocks = parent.blocks;
        }

        int maxLength() {
            int m = 0;
            for (int x : length) m = Math.max(m, x);
            return m;
        }
    }

    private KvCache(KvCacheConfig config, Backend backend) {
        this.config = config;
        this.backend = backend;
        this.bs = config.blockSize();
        this.row = config.rowFloats();
        int n = config.numBlocks();
        refCount = new int[n];
        fill = new int[n];
        free = new BitSet(n);
        free.set(0, n);
        freeCount = n;
        if (backend == Backend.CUDA) {
            cudaDevice = CudaRuntime.currentDevice();
            deviceStorage = DeviceMemory.allocate(config.totalBytes());
            try {
                deviceStorage.zero(); // as the host pool: unwritten rows read as zeros, not as garbage
            } catch (RuntimeException | Error e) {
                try {
                    deviceStorage.close();
                } catch (RuntimeException | Error suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
            storage = new FloatPointer(deviceStorage.pointer());
        } else {
            cudaDevice = -1;
            storage = new FloatPointer(config.totalFloats());
            // Held beyond any PointerScope open at creation: only close() (or the GC) frees it.
            storage.retainReference();
            Pointer.memset(storage, 0, config.totalBytes());
        }
    }

    /** A pool on {@link Backend#auto()}. */
    public static KvCache create(KvCacheConfig config) {
        return create(config, Backend.auto());
    }

    /** A pool on the given backend; throws {@link IllegalStateException} if it cannot run here. */
    public static KvCache create(KvCacheConfig config, Backend backend) {
        Checks.notNull(config, "config");
        Checks.notNull(backend, "backend");
        return new KvCache(config, backend.requireAvailable());
    }

    public KvCacheConfig config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    /** The CUDA device the storage was allocated on (the current one at creation); -1 for host memory. */
    public int cudaDevice() {
        return cudaDevice;
    }

    // ---- sequences ------------------------------------------------------------------------------------

    /** A new empty sequence; ids count up from 0 and are never reused while the pool lives. */
    public synchronized int newSequence() {
        open();
        seqs.add(new Seq(config.numLayers()));
        live++;
        return seqs.size() - 1;
    }

    /**
     * {@code n} children that share every block of {@code seq} (each block's count rises by n); {@code seq}
     * stays live. Needs no free block: the copies happen on the first write into a shared block.
     *
     * @return the children's ids, in increasing order
     */
    public synchronized int[] fork(int seq, int n) {
        Seq parent = live(seq, "seq");
        Checks.require(n >= 1, "n must be >= 1, got " + n);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            seqs.add(new Seq(parent));
            ids[i] = seqs.size() - 1;
        }
        for (int j = 0; j < parent.blocks; j++) refCount[parent.table[j]] += n;
        live += n;
        structureVersion++;
        return ids;
    }

    /** Drops {@code seq}; blocks whose count reaches 0 return to the free list. */
    public synchronized void release(int seq) {
        Seq s = live(seq, "seq");
        for (int j = 0; j < s.blocks; j++) {
            int b = s.table[j];
            if (--refCount[b] == 0) {
                uniqueTokens -= fill[b];
                fill[b] = 0;
                free.set(b);
                freeCount++;
            }
        }
        seqs.set(seq, null);
        live--;
        structureVersion++;
    }

    /** Whether {@code seq} was made by this pool and not released. */
    public synchronized boolean isLive(int seq) {
        open();
        return seq >= 0 && seq < seqs.size() && seqs.get(seq) != null;
    }

    /** Tokens appended to {@code seq} at {@code layer}. */
    public synchronized int length(int seq, int layer) {
        Seq s = live(seq, "seq");
        checkLayer(layer);
        return s.length[layer];
    }

    /** Tokens of {@code seq}: the most of any layer. */
    public synchronized int length(int seq) {
        return live(seq, "seq").maxLength();
    }

    /** A copy of {@code seq}'s block table: entry j holds positions [j·blockSize, (j+1)·blockSize). */
    public synchronized int[] blockTable(int seq) {
        Seq s = live(seq, "seq");
        return Arrays.copyOf(s.table, s.blocks);
    }

    // ---- appends ---------------------------------------------------------------------------------------

    /**
     * Appends {@code n = k.length / (Hkv·D)} tokens to {@code seq} at {@code layer}.
     *
     * @param k [n, Hkv, D] row-major
     * @param v [n, Hkv, D] row-major
     */
    public synchronized void append(int seq, int layer, float[] k, float[] v) {
        Seq s = live(seq, "seq");
        checkLayer(layer);
        int n = tokensOf(k, v);
        write(new Seq[] {s}, layer, n, k, v);
    }

    /**
     * Appends {@code n} tokens from JavaCPP pointers (read from their position): host memory on CPU and
     * REFERENCE, device memory on CUDA.
     *
     * @param k [n, Hkv, D] row-major
     * @param v [n, Hkv, D] row-major
     */
    public synchronized void append(int seq, int layer, FloatPointer k, FloatPointer v, int n) {
        Seq s = live(seq, "seq");
        checkLayer(layer);
        checkPointers(k, v, n, "n");
        try (KernelCall c = new KernelCall(backend)) {
            write(c, new Seq[] {s}, layer, n, k, v);
        }
    }

    /**
     * Appends the tokens of libtorch tensors on this backend's device (CPU tensors for CPU and REFERENCE).
     *
     * @param k float32 [n, Hkv, D], [n, Hkv·D] or [n·Hkv·D]; not contiguous is copied
     * @param v float32, the same shape
     */
    public synchronized void append(int seq, int layer, Tensor k, Tensor v) {
        Seq s = live(seq, "seq");
        checkLayer(layer);
        int n = tokensOf(k, v);
        try (KernelCall c = new KernelCall(backend)) {
            FloatPointer kp = c.tensor("k", k, (long) n * row, ScalarType.Float).asFloats();
            FloatPointer vp = c.tensor("v", v, (long) n * row, ScalarType.Float).asFloats();
            write(c, new Seq[] {s}, layer, n, kp, vp);
        }
    }

    /**
     * Batched decode: one token for each of {@code seqs} at {@code layer}, in one native write (plus one
     * native copy for the copy-on-writes it triggers).
     *
     * @param seqs distinct live ids, B >= 1
     * @param k    [B, Hkv, D]: row i is the token of seqs[i]
     * @param v    [B, Hkv, D]
     */
    public synchronized void appendBatch(int[] seqs, int layer, float[] k, float[] v) {
        Seq[] ss = liveBatch(seqs);
        checkLayer(layer);
        Checks.notNull(k, "k");
        Checks.notNull(v, "v");
        Checks.length(k.length, (long) ss.length * row, "k (B x Hkv x D)");
        Checks.length(v.length, (long) ss.length * row, "v (B x Hkv x D)");
        write(ss, layer, 1, k, v);
    }

    /** {@link #appendBatch(int[], int, float[], float[])} from JavaCPP pointers (host, or device for CUDA). */
    public synchronized void appendBatch(int[] seqs, int layer, FloatPointer k, FloatPointer v) {
        Seq[] ss = liveBatch(seqs);
        checkLayer(layer);
        checkPointers(k, v, ss.length, "seqs.length");
        try (KernelCall c = new KernelCall(backend)) {
            write(c, ss, layer, 1, k, v);
        }
    }

    /** {@link #appendBatch(int[], int, float[], float[])} from float32 tensors of B·Hkv·D elements. */
    public synchronized void appendBatch(int[] seqs, int layer, Tensor k, Tensor v) {
        Seq[] ss = liveBatch(seqs);
        checkLayer(layer);
        Checks.notNull(k, "k");
        Checks.notNull(v, "v");
        try (KernelCall c = new KernelCall(backend)) {
            FloatPointer kp =
                    c.tensor("k", k, (long) ss.length * row, ScalarType.Float).asFloats();
            FloatPointer vp =
                    c.tensor("v", v, (long) ss.length * row, ScalarType.Float).asFloats();
            write(c, ss, layer, 1, kp, vp);
        }
    }

    // ---- accounting ------------------------------------------------------------------------------------

    /** Blocks held by at least one sequence. */
    public synchronized int blocksInUse() {
        open();
        return config.numBlocks() - freeCount;
    }

    /** The most blocks in use at once since creation or the last {@link #resetPeak()}. */
    public synchronized int peakBlocksInUse() {
        open();
        return peakBlocks;
    }

    /** {@link #peakBlocksInUse()} · {@link KvCacheConfig#blockBytes()}. */
    public synchronized long peakBytesInUse() {
        open();
        return (long) peakBlocks * config.blockBytes();
    }

    /** Starts a new peak measurement from the blocks in use now. */
    public synchronized void resetPeak() {
        open();
        peakBlocks = config.numBlocks() - freeCount;
    }

    public synchronized int freeBlocks() {
        open();
        return freeCount;
    }

    /** {@link #blocksInUse()} · {@link KvCacheConfig#blockBytes()}. */
    public synchronized long bytesInUse() {
        open();
        return (long) (config.numBlocks() - freeCount) * config.blockBytes();
    }

    /**
     * Σ over blocks in use of their written slots (the most of any layer): tokens stored once however many
     * sequences share them; a copy-on-write copy counts its copied slots again.
     */
    public synchronized long uniqueTokens() {
        open();
        return uniqueTokens;
    }

    public synchronized int liveSequences() {
        open();
        return live;
    }

    /** Bumps on every change of any block table (block allocated, copied on write, fork, release). */
    public synchronized long structureVersion() {
        open();
        return structureVersion;
    }

    /** Blocks copied on write so far (each one copy of a shared block's written slots, all layers). */
    public synchronized long copyOnWrites() {
        open();
        return copyOnWrites;
    }

    /** The number of block tables holding {@code block} (0 = free). */
    synchronized int refCount(int block) {
        open();
        Checks.require(block >= 0 && block < config.numBlocks(), "block = " + block + " is outside [0, numBlocks)");
        return refCount[block];
    }

    // ---- reads -------------------------------------------------------------------------------------------

    /**
     * Dense gather of {@code seq}'s K and V at {@code layer}: row p of each output is position p.
     *
     * @param k output [length(seq, layer), Hkv, D]
     * @param v output, the same size
     */
    public synchronized void readKv(int seq, int layer, float[] k, float[] v) {
        Seq s = live(seq, "seq");
        checkLayer(layer);
        int n = s.length[layer];
        Checks.notNull(k, "k");
        Checks.notNull(v, "v");
        Checks.length(k.length, (long) n * row, "k (length x Hkv x D)");
        Checks.length(v.length, (long) n * row, "v (length x Hkv x D)");
        for (int j = 0; j * bs < n; j++) {
            int count = Math.min(bs, n - j * bs) * row;
            readRaw(config.offset(layer, 0, s.table[j], 0), k, j * bs * row, count);
            readRaw(config.offset(layer, 1, s.table[j], 0), v, j * bs * row, count);
        }
    }

    /**
     * The base of the storage allocation (host memory, or device memory on CUDA), valid until {@link #close}.
     * A fresh view each call: moving its position does not affect the pool.
     */
    public synchronized FloatPointer storage() {
        open();
        return new FloatPointer(storage);
    }

    /** Copies {@code count} floats of the storage from float offset {@code offset} into {@code out[at..]}. */
    synchronized void readStorage(long offset, float[] out, int at, int count) {
        open();
        Checks.require(offset >= 0 && offset + count <= config.totalFloats(), "offset is outside the storage");
        readRaw(offset, out, at, count);
    }

    private void readRaw(long offset, float[] out, int at, int count) {
        if (count == 0) return;
        if (backend != Backend.CUDA) {
            storage.getPointer(offset).get(out, at, count);
            return;
        }
        try (FloatPointer host = new FloatPointer(count)) {
            DeviceMemory.copyToHost(host, storage.getPointer(offset), 4L * count);
            host.get(out, at, count);
        }
    }

    /** Frees the storage; idempotent. Any later use throws {@link IllegalStateException}. */
    @Override
    public synchronized void close() {
        if (storage == null) return;
        if (deviceStorage != null) deviceStorage.close();
        else storage.deallocate();
        storage = null;
        deviceStorage = null;
    }

    // ---- the write path ---------------------------------------------------------------------------------

    /** {@link #write(KernelCall, Seq[], int, int, FloatPointer, FloatPointer)} from Java arrays. */
    private void write(Seq[] ss, int layer, int perSeq, float[] k, float[] v) {
        if (backend != Backend.REFERENCE) {
            try (KernelCall c = new KernelCall(backend)) {
                write(c, ss, layer, perSeq, c.host(k), c.host(v));
            }
            return;
        }
        Plan p = plan(ss, layer, perSeq);
        referenceCopies(p);
        referenceWrite(layer, p.slots, k, v);
        commit(p, ss, layer, perSeq);
    }

    /**
     * Appends {@code perSeq} tokens to each of {@code ss} at {@code layer}: token t of k and v is sequence
     * t / perSeq's position length + t % perSeq.
     *
     * <p>Plan (no change), check the free blocks, run the native copy then the native write, commit. The
     * copies read their source blocks before the write touches any block, so a writer that keeps a formerly
     * shared block (the last one) may write into it in place. If a native call fails, the bookkeeping is
     * unchanged: the stores went to free blocks or to slots beyond every sequence's length.
     */
    private void write(KernelCall c, Seq[] ss, int layer, int perSeq, FloatPointer k, FloatPointer v) {
        long floats = (long) ss.length * perSeq * row;
        Arg ka = c.in("k", k, floats);
        Arg va = c.in("v", v, floats);
        Plan p = plan(ss, layer, perSeq);
        if (c.reference()) {
            referenceCopies(p);
            referenceWrite(layer, p.slots, ka.readFloats(), va.readFloats());
        } else {
            if (p.numCopies > 0) {
                int[][] copies = copies(p);
                NativeLibrary.check(Spo4jNative.spo4j_kv_cache_copy_blocks(
                        c.device(),
                        storage,
                        config.numLayers(),
                        config.numBlocks(),
                        bs,
                        config.kvHeads(),
                        config.headDim(),
                        p.numCopies,
                        c.host(copies[0]),
                        c.host(copies[1]),
                        c.host(copies[2]),
                        c.stream()));
            }
            IntPointer slots = c.host(p.slots);
            c.run(() -> Spo4jNative.spo4j_kv_cache_write(
                    c.device(),
                    storage,
                    config.numLayers(),
                    config.numBlocks(),
                    bs,
                    config.kvHeads(),
                    config.headDim(),
                    layer,
                    p.slots.length,
                    slots,
                    ka.asFloats(),
                    va.asFloats(),
                    c.stream()));
        }
        commit(p, ss, layer, perSeq);
    }

    /** What one write does: copy-on-writes, new blocks, and the slot of every token. */
    private static final class Plan {
        int requests; // blocks taken from the free list
        int[] reqSeq = new int[4], reqIndex = new int[4], reqSrc = new int[4], reqBlock; // reqSrc -1: new block
        int numCopies;
        int[] slots;
    }

    private Plan plan(Seq[] ss, int layer, int perSeq) {
        Plan p = new Plan();
        int tokens = ss.length * perSeq;
        int[] target = new int[tokens]; // >= 0: a block; < 0: -(request + 1)
        Map<Integer, Integer> leaving = new HashMap<>(); // shared block -> writers of this call that copy it
        for (int si = 0; si < ss.length; si++) {
            Seq s = ss[si];
            int start = s.length[layer];
            Checks.require(
                    (long) start + perSeq <= (long) Integer.MAX_VALUE - bs,
                    "sequence " + si + " would exceed 2^31 tokens");
            int lastJ = (start + perSeq - 1) / bs;
            for (int j = start / bs; j <= lastJ; j++) {
                int block;
                if (j < s.blocks) {
                    int b = s.table[j];
                    int holders = refCount[b] - leaving.getOrDefault(b, 0);
                    if (holders > 1) {
                        leaving.merge(b, 1, Integer::sum);
                        block = -(request(p, si, j, b) + 1);
                        p.numCopies++;
                    } else {
                        block = b;
                    }
                } else {
                    block = -(request(p, si, j, -1) + 1);
                }
                int from = Math.max(start, j * bs), to = Math.min(start + perSeq, (j + 1) * bs);
                for (int pos = from; pos < to; pos++) target[si * perSeq + pos - start] = block;
            }
        }
        if (p.requests > freeCount) {
            String what = ss.length == 1
                    ? "appending " + perSeq + " token(s)"
                    : "appending one token to each of " + ss.length + " sequences";
            throw new KvCacheExhaustedException(what, p.requests, freeCount, config.numBlocks());
        }
        p.reqBlock = new int[p.requests];
        for (int r = 0, b = -1; r < p.requests; r++) {
            b = free.nextSetBit(b + 1);
            p.reqBlock[r] = b;
        }
        p.slots = new int[tokens];
        for (int si = 0; si < ss.length; si++) {
            int start = ss[si].length[layer];
            for (int i = 0; i < perSeq; i++) {
                int t = si * perSeq + i;
                int block = target[t] >= 0 ? target[t] : p.reqBlock[-target[t] - 1];
                p.slots[t] = block * bs + (start + i) % bs;
            }
        }
        return p;
    }

    private static int request(Plan p, int seqIndex, int blockIndex, int src) {
        if (p.requests == p.reqSeq.length) {
            int n = p.requests * 2;
            p.reqSeq = Arrays.copyOf(p.reqSeq, n);
            p.reqIndex = Arrays.copyOf(p.reqIndex, n);
            p.reqSrc = Arrays.copyOf(p.reqSrc, n);
        }
        p.reqSeq[p.requests] = seqIndex;
        p.reqIndex[p.requests] = blockIndex;
        p.reqSrc[p.requests] = src;
        return p.requests++;
    }

    /** The copy list of a plan: src, dst, slots to copy. */
    private int[][] copies(Plan p) {
        int[] src = new int[p.numCopies], dst = new int[p.numCopies], count = new int[p.numCopies];
        for (int r = 0, c = 0; r < p.requests; r++) {
            if (p.reqSrc[r] < 0) continue;
            src[c] = p.reqSrc[r];
            dst[c] = p.reqBlock[r];
            count[c] = fill[p.reqSrc[r]];
            c++;
        }
        return new int[][] {src, dst, count};
    }

    private void commit(Plan p, Seq[] ss, int layer, int perSeq) {
        for (int r = 0; r < p.requests; r++) {
            Seq s = ss[p.reqSeq[r]];
            int b = p.reqBlock[r], src = p.reqSrc[r];
            free.clear(b);
            freeCount--;
            peakBlocks = Math.max(peakBlocks, config.numBlocks() - freeCount);
            refCount[b] = 1;
            if (src >= 0) {
                refCount[src]--;
                fill[b] = fill[src];
                uniqueTokens += fill[src];
                s.table[p.reqIndex[r]] = b;
            } else {
                if (s.blocks == s.table.length) s.table = Arrays.copyOf(s.table, s.table.length * 2);
                s.table[s.blocks++] = b;
            }
        }
        for (int slot : p.slots) {
            int b = slot / bs, used = slot % bs + 1;
            if (used > fill[b]) {
                uniqueTokens += used - fill[b];
                fill[b] = used;
            }
        }
        for (Seq s : ss) s.length[layer] += perSeq;
        copyOnWrites += p.numCopies;
        if (p.requests > 0) structureVersion++;
    }

    private void referenceCopies(Plan p) {
        int[][] c = copies(p);
        for (int i = 0; i < p.numCopies; i++) {
            float[] tmp = new float[c[2][i] * row];
            for (int l = 0; l < config.numLayers(); l++) {
                for (int kv = 0; kv < 2; kv++) {
                    storage.getPointer(config.offset(l, kv, c[0][i], 0)).get(tmp);
                    storage.getPointer(config.offset(l, kv, c[1][i], 0)).put(tmp);
                }
            }
        }
    }

    private void referenceWrite(int layer, int[] slots, float[] k, float[] v) {
        for (int t = 0; t < slots.length; t++) {
            int b = slots[t] / bs, s = slots[t] % bs;
            storage.getPointer(config.offset(layer, 0, b, s)).put(k, t * row, row);
            storage.getPointer(config.offset(layer, 1, b, s)).put(v, t * row, row);
        }
    }

    // ---- checks ------------------------------------------------------------------------------------------

    private void open() {
        if (storage == null) throw new IllegalStateException("the KV cache pool is closed");
    }

    private Seq live(int seq, String name) {
        open();
        if (seq < 0 || seq >= seqs.size()) {
            throw new IllegalArgumentException(name + " = " + seq + " is not a sequence of this pool");
        }
        Seq s = seqs.get(seq);
        if (s == null) throw new IllegalArgumentException(name + " = " + seq + " was released");
        return s;
    }

    private Seq[] liveBatch(int[] ids) {
        open();
        Checks.notNull(ids, "seqs");
        Checks.require(ids.length >= 1, "seqs must hold at least one sequence");
        Seq[] ss = new Seq[ids.length];
        for (int i = 0; i < ids.length; i++) ss[i] = live(ids[i], "seqs[" + i + "]");
        int[] sorted = ids.clone();
        Arrays.sort(sorted);
        for (int i = 1; i < sorted.length; i++) {
            Checks.require(sorted[i] != sorted[i - 1], "seqs holds sequence " + sorted[i] + " twice");
        }
        return ss;
    }

    private void checkLayer(int layer) {
        Checks.require(
                layer >= 0 && layer < config.numLayers(),
                "layer = " + layer + " is outside [0, numLayers = " + config.numLayers() + ")");
    }

    private int tokensOf(float[] k, float[] v) {
        Checks.notNull(k, "k");
        Checks.notNull(v, "v");
        Checks.require(k.length > 0, "k holds no token");
        Checks.require(k.length % row == 0, "k has length " + k.length + ", not a multiple of Hkv x D = " + row);
        Checks.length(v.length, k.length, "v");
        return k.length / row;
    }

    private int tokensOf(Tensor k, Tensor v) {
        Checks.notNull(k, "k");
        Checks.notNull(v, "v");
        long numel = k.numel();
        Checks.require(numel > 0, "k holds no token");
        Checks.require(numel % row == 0, "k has " + numel + " elements, not a multiple of Hkv x D = " + row);
        Checks.require(numel / row <= Integer.MAX_VALUE, "k holds too many tokens");
        int n = (int) (numel / row);
        if (k.dim() == 3) {
            Checks.require(
                    k.size(1) == config.kvHeads() && k.size(2) == config.headDim(),
                    "k must be [n, Hkv = " + config.kvHeads() + ", D = " + config.headDim() + "], got [" + k.size(0)
                            + ", " + k.size(1) + ", " + k.size(2) + "]");
        } else if (k.dim() == 2) {
            Checks.require(
                    k.size(1) == row,
                    "k must be [n, Hkv x D = " + row + "], got [" + k.size(0) + ", " + k.size(1) + "]");
        } else {
            Checks.require(
                    k.dim() == 1,
                    "k must be [n, Hkv, D], [n, Hkv x D] or [n x Hkv x D], got " + k.dim() + " dimensions");
        }
        Checks.require(v.numel() == numel, "v has " + v.numel() + " elements, expected " + numel + " (as k)");
        return n;
    }

    /** The count and the pointers; write checks their capacities where it declares them. */
    private void checkPointers(FloatPointer k, FloatPointer v, int n, String nName) {
        Checks.require(n >= 1, nName + " must be >= 1, got " + n);
        Checks.notNull(k, "k");
        Checks.notNull(v, "v");
    }
}
