package io.github.spo4j.model;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.DType;
import io.github.spo4j.kernels.attention.PrefixAttention;
import io.github.spo4j.kernels.attention.PrefixAttentionPlan;
import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.kv.KvCacheConfig;
import io.github.spo4j.kernels.loss.PolicyLoss;
import io.github.spo4j.model.io.SafeTensors;
import io.github.spo4j.model.io.SafeTensorsDType;
import io.github.spo4j.model.io.SafeTensorsFormatException;
import io.github.spo4j.model.io.SafeTensorsReader;
import io.github.spo4j.model.io.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The policy: a Llama / Qwen2 decoder-only transformer ({@link ModelConfig} states the math) on libtorch, fp32, on
 * one {@link Device} (the CPU, or a CUDA device with the {@code -Pgpu} build). Its parameters are leaf tensors that require grad, named as in Hugging Face checkpoints
 * ({@code model.layers.0.self_attn.q_proj.weight}, ...), so a model directory loads and a checkpoint written here
 * loads in transformers.
 *
 * <p>Two forward paths share the weights:
 * <ul>
 *   <li><b>Training</b> ({@link #forward}): whole sequences with teacher forcing, causal attention by libtorch,
 *       differentiable. Per-token log-probs of the targets come from the policy-loss kernel's logits entry, so no
 *       {@code [N, V]} log-softmax is materialised; see {@link TrainingForward} for the backward.
 *       {@link #forwardPacked} gives the same numbers computing each shared prefix of the batch once.
 *   <li><b>Generation</b> ({@link #prefill}, {@link #decode}): incremental, no autograd. Keys and values are
 *       written to a {@link KvCache} and attention reads them through {@link PrefixAttention}: sequences
 *       forked from a common prefix read its blocks once per step ({@link PrefixAttentionPlan#decodeShared}).
 * </ul>
 *
 * <p>One style of entry: token ids go in as Java {@code int} arrays ({@link #logits(Tensor)} also takes an int64
 * tensor, {@link Tensors#tokenIds} makes one); each entry returns a libtorch {@link Tensor} in the caller's scope
 * (zero copy, for code that stays in libtorch) and has an {@code *Array} twin that returns Java arrays and frees
 * its tensors itself ({@link #logitsArray}, {@link #prefillArray}, {@link #decodeArray}; the training forward's is
 * {@link TrainingForward#logpArray}). {@link #createKvCache} makes a pool that the generation path accepts.
 *
 * <pre>{@code
 * try (Policy policy = Policy.random(ModelConfig.tiny(), 42); KvCache pool = policy.createKvCache(16, 256)) {
 *     float[][] scores = policy.logitsArray(new int[][] {{1, 5, 9}, {1, 7}});   // [B][T_b · V], ragged
 *     int seq = pool.newSequence();
 *     float[] next = policy.prefillArray(pool, new int[] {seq}, new int[][] {{1, 5, 9}})[0];   // [V]
 * }
 * }</pre>
 *
 * <p>{@link #forward}, {@link #prefill} and {@link #decode} open their own {@link PointerScope} for temporaries;
 * tensors they return belong to the caller's scope. Not thread-safe: one thread drives a policy at a time.
 */
public final class Policy implements AutoCloseable {
    /** HF's initializer_range: weights of a random model are N(0, 0.02²). */
    public static final double INIT_STD = 0.02;
    /** Prefix runs shorter than this are attended per sequence, not shared (the measured CPU crossover). */
    public static final int MIN_SHARED_TOKENS = PrefixAttention.MIN_SHARED_TOKENS;

    private final ModelConfig config;
    private final Map<String, Tensor> parameters; // insertion order: embedding, layers, norm, head
    private final Tensor embedding;
    private final Tensor finalNorm;
    private final Tensor head; // the embedding itself when tied
    private final Layer[] layers;
    private final Rotary rotary;
    private final Device device;
    private final PolicyLoss logprobKernel;
    private final PrefixAttention attention;
    private final float attentionScale;
    private Precision precision = Precision.FP32;
    private boolean closed;

    private record Layer(
            Tensor inputNorm,
            Tensor q,
            Tensor qBias,
            Tensor k,
            Tensor kBias,
            Tensor v,
            Tensor vBias,
            Tensor o,
            Tensor oBias,
            Tensor postNorm,
            Tensor gate,
            Tensor up,
            Tensor down) {}

    private Policy(ModelConfig config, Map<String, Tensor> parameters, Device device) {
        this.config = config;
        this.device = device;
        logprobKernel = PolicyLoss.create(device.backend());
        attention = PrefixAttention.create(device.backend());
        this.parameters = Collections.unmodifiableMap(parameters);
        for (Tensor t : parameters.values()) t.set_requires_grad(true);
        embedding = parameters.get(EMBEDDING);
        finalNorm = parameters.get(FINAL_NORM);
        head = config.tieWordEmbeddings() ? embedding : parameters.get(HEAD);
        layers = new Layer[config.numLayers()];
        for (int l = 0; l < layers.length; l++) {
            String p = layerPrefix(l);
            layers[l] = new Layer(
                    parameters.get(p + "input_layernorm.weight"),
                    parameters.get(p + "self_attn.q_proj.weight"),
                    parameters.get(p + "self_attn.q_proj.bias"),
                    parameters.get(p + "self_attn.k_proj.weight"),
                    parameters.get(p + "self_attn.k_proj.bias"),
                    parameters.get(p + "self_attn.v_proj.weight"),
                    parameters.get(p + "self_attn.v_proj.bias"),
                    parameters.get(p + "self_attn.o_proj.weight"),
                    parameters.get(p + "self_attn.o_proj.bias"),
                    parameters.get(p + "post_attention_layernorm.weight"),
                    parameters.get(p + "mlp.gate_proj.weight"),
                    parameters.get(p + "mlp.up_proj.weight"),
                    parameters.get(p + "mlp.down_proj.weight"));
        }
        rotary = new Rotary(config, device);
        attentionScale = PrefixAttention.defaultScale(config.headDim());
    }

    // ---- construction, loading, saving --------------------------------------------------------------------

    /**
     * A randomly initialised policy as transformers initialises one: linear and embedding weights N(0, 0.02²),
     * biases 0, RMSNorm weights 1. The same seed gives the same weights on every machine (drawn in Java). On the CPU.
     */
    public static Policy random(ModelConfig config, long seed) {
        return random(config, seed, Device.CPU);
    }

    /** {@link #random(ModelConfig, long)} on {@code device} (the same weights on every device). */
    public static Policy random(ModelConfig config, long seed, Device device) {
        if (config == null) throw new IllegalArgumentException("config must not be null");
        if (device == null) throw new IllegalArgumentException("device must not be null");
        device.requireAvailable();
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, Tensor> p = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, long[]> e : parameterShapes(config).entrySet()) {
                String name = e.getKey();
                long[] shape = e.getValue();
                float[] data = new float[Math.toIntExact(numel(shape))];
                if (name.endsWith("norm.weight")) {
                    Arrays.fill(data, 1f);
                } else if (!name.endsWith(".bias")) {
                    for (int i = 0; i < data.length; i++) data[i] = (float) (rng.nextGaussian() * INIT_STD);
                }
                p.put(name, device.adopt(Tensors.retainedFloats(data, shape)));
            }
        } catch (RuntimeException ex) { // e.g. out of device memory: free what was placed
            for (Tensor t : p.values()) t.releaseReference();
            throw ex;
        }
        return new Policy(config, p, device);
    }

    /**
     * Loads a Hugging Face model directory: {@code config.json} (llama or qwen2) and the weights of
     * {@code model.safetensors}, or of the shards named by {@code model.safetensors.index.json}, in fp32, bf16 or
     * fp16 (converted to fp32), on the CPU.
     *
     * @throws io.github.spo4j.model.io.ConfigFormatException    on a bad or unsupported config.json
     * @throws SafeTensorsFormatException when the weights are corrupt, truncated, missing or of the wrong shape
     */
    public static Policy load(Path modelDirectory) throws IOException {
        return load(modelDirectory, Device.CPU);
    }

    /** {@link #load(Path)} onto {@code device}: each tensor is read on the host and moved there. */
    public static Policy load(Path modelDirectory, Device device) throws IOException {
        if (device == null) throw new IllegalArgumentException("device must not be null");
        device.requireAvailable();
        if (modelDirectory == null) throw new IllegalArgumentException("modelDirectory must not be null");
        if (!Files.exists(modelDirectory)) {
            throw new IllegalArgumentException("modelDirectory " + modelDirectory + " does not exist");
        }
        if (!Files.isDirectory(modelDirectory)) {
            throw new IllegalArgumentException("modelDirectory " + modelDirectory + " is not a directory");
        }
        ModelConfig config = ModelConfig.fromJson(modelDirectory.resolve("config.json"));
        Map<String, Tensor> p = new LinkedHashMap<>();
        try (SafeTensorsReader reader = SafeTensors.open(modelDirectory)) {
            for (Map.Entry<String, long[]> e : parameterShapes(config).entrySet()) {
                String name = e.getKey();
                if (!reader.contains(name)) {
                    throw new SafeTensorsFormatException(
                            modelDirectory,
                            name,
                            "missing; a " + config.architecture().modelType + " model of this config needs it");
                }
                TensorInfo info = reader.info(name);
                if (!Arrays.equals(info.shape(), e.getValue())) {
                    throw new SafeTensorsFormatException(
                            modelDirectory,
                            name,
                            "has shape " + Arrays.toString(info.shape()) + " but the config needs "
                                    + Arrays.toString(e.getValue()));
                }
                try (PointerScope scope = new PointerScope()) {
                    Tensor t = device.place(reader.readTensor(name).contiguous());
                    t.retainReference();
                    p.put(name, t);
                }
            }
        } catch (IOException | RuntimeException ex) {
            for (Tensor t : p.values()) t.releaseReference();
            throw ex;
        }
        return new Policy(config, p, device);
    }

    /**
     * Writes {@code config.json} and {@code model.safetensors} (fp32, bit exact) into {@code directory}, each
     * atomically (temp file and rename): a crash leaves the previous files or the new ones, never a torn file.
     * A tied head is not written, as transformers does.
     */
    public void save(Path directory) throws IOException {
        save(directory, SafeTensorsDType.F32);
    }

    /** {@link #save(Path)} with the weights in {@code dtype} (BF16 rounds to nearest even). */
    public void save(Path directory, SafeTensorsDType dtype) throws IOException {
        open();
        if (directory == null) throw new IllegalArgumentException("directory must not be null");
        Files.createDirectories(directory);
        Map<String, String> metadata = Map.of("format", "pt");
        SafeTensors.writeTensors(directory.resolve("model.safetensors"), parameters, metadata, dtype);
        config.writeJson(directory.resolve("config.json"));
    }

    /** The tensors this architecture has, with their shapes, in checkpoint order. */
    static Map<String, long[]> parameterShapes(ModelConfig c) {
        Map<String, long[]> s = new LinkedHashMap<>();
        long h = c.hiddenSize(), qOut = (long) c.numHeads() * c.headDim(), kvOut = (long) c.numKvHeads() * c.headDim();
        s.put(EMBEDDING, new long[] {c.vocabSize(), h});
        for (int l = 0; l < c.numLayers(); l++) {
            String p = layerPrefix(l);
            s.put(p + "input_layernorm.weight", new long[] {h});
            s.put(p + "self_attn.q_proj.weight", new long[] {qOut, h});
            if (c.attentionBias()) s.put(p + "self_attn.q_proj.bias", new long[] {qOut});
            s.put(p + "self_attn.k_proj.weight", new long[] {kvOut, h});
            if (c.attentionBias()) s.put(p + "self_attn.k_proj.bias", new long[] {kvOut});
            s.put(p + "self_attn.v_proj.weight", new long[] {kvOut, h});
            if (c.attentionBias()) s.put(p + "self_attn.v_proj.bias", new long[] {kvOut});
            s.put(p + "self_attn.o_proj.weight", new long[] {h, qOut});
            if (c.outputProjectionBias()) s.put(p + "self_attn.o_proj.bias", new long[] {h});
            s.put(p + "post_attention_layernorm.weight", new long[] {h});
            s.put(p + "mlp.gate_proj.weight", new long[] {c.intermediateSize(), h});
            s.put(p + "mlp.up_proj.weight", new long[] {c.intermediateSize(), h});
            s.put(p + "mlp.down_proj.weight", new long[] {h, c.intermediateSize()});
        }
        s.put(FINAL_NORM, new long[] {h});
        if (!c.tieWordEmbeddings()) s.put(HEAD, new long[] {c.vocabSize(), h});
        return s;
    }

    static final String EMBEDDING = "model.embed_tokens.weight";
    static final String FINAL_NORM = "model.norm.weight";
    static final String HEAD = "lm_head.weight";

    private static String layerPrefix(int l) {
        return "model.layers." + l + ".";
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    public ModelConfig config() {
        return config;
    }

    /** Where the parameters live and every forward runs. */
    public Device device() {
        return device;
    }

    /** The arithmetic of {@link #forward} and {@link #forwardPacked}; generation is always fp32. */
    public Precision precision() {
        return precision;
    }

    /**
     * Sets the arithmetic of {@link #forward} and {@link #forwardPacked} (default {@link Precision#FP32}). The
     * parameters stay fp32 either way.
     */
    public void setPrecision(Precision precision) {
        open();
        if (precision == null) throw new IllegalArgumentException("precision must not be null");
        this.precision = precision;
    }

    /** The parameters by checkpoint name, unmodifiable; the tensors are live (an optimizer updates them in place). */
    public Map<String, Tensor> namedParameters() {
        open();
        return parameters;
    }

    /** The parameters as a vector for libtorch optimizers. */
    public TensorVector parameterVector() {
        open();
        TensorVector v = new TensorVector();
        for (Tensor t : parameters.values()) v.push_back(t);
        return v;
    }

    /** Number of scalar parameters. */
    public long parameterCount() {
        long n = 0;
        for (Tensor t : parameters.values()) n += t.numel();
        return n;
    }

    /** Copies every parameter of {@code other} (same config) into this policy, in place. */
    public void copyFrom(Policy other) {
        open();
        if (other == null) throw new IllegalArgumentException("other must not be null");
        if (!other.config.equals(config)) throw new IllegalArgumentException("other has a different config");
        try (PointerScope scope = new PointerScope();
                NoGradGuard guard = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : parameters.entrySet())
                e.getValue().copy_(other.parameters.get(e.getKey()));
        }
    }

    /** A pool layout for this model: its layers, KV heads and head size. */
    public KvCacheConfig kvCacheConfig(int blockSize, int numBlocks) {
        return new KvCacheConfig(config.numLayers(), config.numKvHeads(), config.headDim(), blockSize, numBlocks);
    }

    /**
     * A pool for this policy's generation: {@link #kvCacheConfig} layout on the policy's device (host memory,
     * {@link Backend#CPU}, for the CPU; device memory, {@link Backend#CUDA}, for CUDA). {@code
     * KvCache.create(kvCacheConfig(...))} alone picks {@link Backend#auto()}, which need not be where the policy runs;
     * {@link #prefill} and {@link #decode} reject a pool on another device. The caller closes it.
     *
     * @param blockSize tokens per block, &gt;= 1
     * @param numBlocks blocks in the pool, &gt;= 1
     */
    public KvCache createKvCache(int blockSize, int numBlocks) {
        open();
        try (Device.Current current = device.enter()) { // a CUDA pool is allocated on the current device
            return KvCache.create(kvCacheConfig(blockSize, numBlocks), device.backend());
        }
    }

    // ---- training forward ----------------------------------------------------------------------------------

    /**
     * Logits of every position of a batch of equally long sequences: [B, T, V], differentiable, through libtorch's
     * causal attention (the oracle the generation path is tested against). Call it inside a {@link PointerScope}.
     *
     * @param tokens int64 [B, T] token ids in [0, V), on any device (copied to the policy's)
     */
    public Tensor logits(Tensor tokens) {
        open();
        checkTokenTensor(tokens);
        // Temporaries and the result go to the caller's scope: they are the autograd graph of the result.
        try (Device.Current current = device.enter()) {
            return torch.linear(hidden(device.place(tokens)), head);
        }
    }

    /**
     * {@link #logits(Tensor)} of token ids given as equally long Java rows: [B, T, V], differentiable, in the caller's
     * scope ({@link Tensors#tokenIds(int[][])} builds the input).
     *
     * @param tokens [B] rows of T ids in [0, V)
     */
    public Tensor logits(int[][] tokens) {
        open();
        return logits(Tensors.tokenIds(tokens));
    }

    /**
     * The logits of every position of each sequence, as Java arrays, without autograd: {@code result[b]} holds
     * {@code tokens[b].length} rows of V, row-major (position i's logits at {@code [i * V, (i + 1) * V)}). Rows may
     * differ in length: they run as one batch right-padded with id 0, which no real position attends to.
     *
     * @param tokens [B] non-empty rows of ids in [0, V)
     */
    public float[][] logitsArray(int[][] tokens) {
        open();
        try (PointerScope scope = new PointerScope();
                NoGradGuard guard = new NoGradGuard()) {
            Tensor ids = Tensors.tokenIds(tokens, 0);
            float[] flat = Tensors.toFloats(logits(ids));
            int t = (int) ids.size(1), v = config.vocabSize();
            float[][] out = new float[tokens.length][];
            for (int b = 0; b < tokens.length; b++) {
                out[b] = Arrays.copyOfRange(flat, b * t * v, (b * t + tokens[b].length) * v);
            }
            return out;
        }
    }

    /**
     * The training forward: the log-probs at temperature T of every target token of {@code batch}, computed from
     * logits by the policy-loss kernel. The result holds the autograd graph until closed.
     */
    public TrainingForward forward(TargetBatch batch, float temperature) {
        checkTrainingInput(batch, temperature);
        int b = batch.numSequences(), t = batch.maxLength();
        int n = batch.numTargets();
        long[] padded = new long[b * t];
        long[] rows = new long[n];
        int[] targets = new int[n];
        int k = 0;
        for (int s = 0; s < b; s++) {
            int[] seq = batch.sequence(s);
            for (int i = 0; i < seq.length; i++) padded[s * t + i] = seq[i];
            for (int i = batch.contextLength(s); i < seq.length; i++) {
                rows[k] = (long) s * t + i - 1; // position i−1 predicts token i
                targets[k++] = seq[i];
            }
        }
        try (PointerScope scope = new PointerScope();
                Device.Current current = device.enter();
                Autocast autocast = Autocast.enter(device, precision)) {
            Tensor hidden =
                    hidden(device.place(Tensors.scopedLongs(padded, b, t))).reshape(-1, config.hiddenSize());
            return targetForward(
                    hidden, device.place(Tensors.scopedLongs(rows, n)), targets, temperature, batch.seqOffsets());
        }
    }

    /**
     * {@link #forward} computing every distinct prefix of the batch once: the sequences are packed into their token
     * trie ({@code PackedForest}), each node attending to its ancestors at its own position, so a group's shared
     * prompt or a tree's upper segments are computed (and backpropagated) once however many sequences repeat them.
     * The log-probs, and the gradients of any loss on them, equal {@link #forward}'s up to fp32 rounding. Projections
     * and MLPs run on the U unique tokens, attention chunk by chunk ({@code ForestAttention}: Σ L·(P + L) scores over
     * chunks of L tokens under P ancestors), so it costs no more than {@link #forward} on any batch and far less where
     * sequences share prefixes; without sharing it still skips {@link #forward}'s padding.
     */
    public TrainingForward forwardPacked(TargetBatch batch, float temperature) {
        checkTrainingInput(batch, temperature);
        PackedForest forest = new PackedForest(batch);
        int u = forest.size();
        try (PointerScope scope = new PointerScope();
                Device.Current current = device.enter();
                Autocast autocast = Autocast.enter(device, precision)) {
            Tensor tokens = device.place(Tensors.scopedLongs(forest.tokens())).view(1, u);
            ForestAttention forestAttention = new ForestAttention(forest.attentionPlan(), device);
            Tensor[] cs = rotary.rows(device.place(Tensors.scopedLongs(forest.depth())), forest.maxDepth());
            int d = config.headDim();
            Attention attention = (q, k, v) -> forestAttention
                    .attend(q.view(u, q.size(2), d), k.view(u, k.size(2), d), v.view(u, v.size(2), d), attentionScale)
                    .view(1, u, -1);
            Tensor hidden = hidden(tokens, cs[0].view(1, u, 1, d), cs[1].view(1, u, 1, d), attention)
                    .reshape(-1, config.hiddenSize());
            return targetForward(
                    hidden,
                    device.place(Tensors.scopedLongs(forest.targetRows())),
                    forest.targets(),
                    temperature,
                    batch.seqOffsets());
        }
    }

    private void checkTrainingInput(TargetBatch batch, float temperature) {
        open();
        if (batch == null) throw new IllegalArgumentException("batch must not be null");
        if (!(temperature > 0) || !Float.isFinite(temperature)) {
            throw new IllegalArgumentException("temperature must be finite and > 0, got " + temperature);
        }
        batch.checkVocab(config.vocabSize(), "batch");
    }

    /** The targets' logits from the hidden rows that predict them, their log-probs, and the graph. */
    private TrainingForward targetForward(
            Tensor hidden, Tensor rows, int[] targets, float temperature, int[] seqOffsets) {
        int n = targets.length;
        Tensor logits = torch.linear(hidden.index_select(0, rows), head).contiguous();
        Tensor targetTensor = device.place(Tensors.ints(targets));
        Tensor logp = torch.empty(new long[] {n}, device.options(ScalarType.Float), null);
        // Under bf16 autocast the head's product, and so the logits, are bf16: the kernel's bf16 entry reads them.
        boolean bf16 = logits.scalar_type().intern() == ScalarType.BFloat16;
        logprobKernel.tokenLogprobs(
                n,
                config.vocabSize(),
                logits.data_ptr(),
                bf16 ? DType.BF16 : DType.F32,
                targetTensor.data_ptr_int(),
                DType.I32,
                temperature,
                logp.data_ptr_float(),
                null);
        logits.retainReference();
        logp.retainReference();
        targetTensor.retainReference();
        return new TrainingForward(logits, logp, targetTensor, temperature, seqOffsets, logprobKernel, device);
    }

    /** Final hidden states [B, T, hidden] after the last RMSNorm, causal. Caller's scope. */
    private Tensor hidden(Tensor tokens) {
        long t = tokens.size(1);
        int d = config.headDim();
        Tensor[] cs = rotary.prefix((int) t);
        Attention causal = (q, k, v) -> torch.scaled_dot_product_attention(
                        q.transpose(1, 2),
                        k.transpose(1, 2),
                        v.transpose(1, 2),
                        new TensorOptional(),
                        0.0,
                        true,
                        new DoubleOptional(attentionScale),
                        k.size(2) != q.size(2))
                .transpose(1, 2)
                .reshape(q.size(0), t, -1);
        return hidden(tokens, cs[0].view(1, t, 1, d), cs[1].view(1, t, 1, d), causal);
    }

    /** Attention of q [B, T, H, D] over k, v [B, T, Hkv, D], rope applied: [B, T, H·D]. */
    @FunctionalInterface
    private interface Attention {
        Tensor apply(Tensor q, Tensor k, Tensor v);
    }

    /** Final hidden states [B, T, hidden] of tokens at the positions of cos/sin [.., T, 1, D]. Caller's scope. */
    private Tensor hidden(Tensor tokens, Tensor cos, Tensor sin, Attention attention) {
        long b = tokens.size(0), t = tokens.size(1);
        int h = config.numHeads(), hkv = config.numKvHeads(), d = config.headDim();
        Tensor x = torch.embedding(embedding, tokens);
        for (Layer layer : layers) {
            Tensor n = rmsNorm(x, layer.inputNorm);
            Tensor q = Rotary.apply(linear(n, layer.q, layer.qBias).view(b, t, h, d), cos, sin, d);
            Tensor k = Rotary.apply(linear(n, layer.k, layer.kBias).view(b, t, hkv, d), cos, sin, d);
            Tensor v = linear(n, layer.v, layer.vBias).view(b, t, hkv, d);
            x = x.add(linear(attention.apply(q, k, v), layer.o, layer.oBias));
            x = x.add(mlp(rmsNorm(x, layer.postNorm), layer));
        }
        return rmsNorm(x, finalNorm);
    }

    // ---- generation -----------------------------------------------------------------------------------------

    /**
     * Appends {@code tokens[i]} to sequence {@code seqs[i]} of {@code pool} (which may already hold a prefix of it)
     * at every layer, attending causally over the cached positions, and returns the logits of each sequence's last
     * new token: [B, V] float32, in the caller's scope. No autograd.
     *
     * @param pool a pool of {@link #kvCacheConfig} layout on the policy's device ({@link #createKvCache})
     * @param seqs distinct live sequences of the pool, all with the same length at every layer
     * @param tokens [B] non-empty token arrays
     */
    public Tensor prefill(KvCache pool, int[] seqs, int[][] tokens) {
        open();
        checkPool(pool);
        if (seqs == null) throw new IllegalArgumentException("seqs must not be null");
        if (tokens == null) throw new IllegalArgumentException("tokens must not be null");
        if (tokens.length != seqs.length) {
            throw new IllegalArgumentException("tokens has " + tokens.length + " rows but seqs has " + seqs.length);
        }
        int b = seqs.length;
        int total = 0;
        int[] counts = new int[b];
        for (int i = 0; i < b; i++) {
            if (tokens[i] == null || tokens[i].length == 0) {
                throw new IllegalArgumentException("tokens[" + i + "] must hold at least one token");
            }
            checkIds(tokens[i], "tokens[" + i + "]");
            counts[i] = tokens[i].length;
            total = Math.addExact(total, counts[i]);
        }
        int[] start = new int[b];
        for (int i = 0; i < b; i++) start[i] = checkedLength(pool, seqs[i], "seqs[" + i + "]");
        checkDistinct(seqs);
        long[] ids = new long[total];
        long[] positions = new long[total];
        long[] last = new long[b];
        int maxPosition = 0;
        for (int i = 0, k = 0; i < b; i++) {
            for (int j = 0; j < counts[i]; j++, k++) {
                ids[k] = tokens[i][j];
                positions[k] = start[i] + j;
                maxPosition = Math.max(maxPosition, start[i] + j);
            }
            last[i] = k - 1L;
        }
        checkContext(maxPosition);
        Tensor out = torch.empty(new long[] {b, config.vocabSize()}, device.options(ScalarType.Float), null);
        try (PointerScope scope = new PointerScope();
                NoGradGuard guard = new NoGradGuard();
                Device.Current current = device.enter()) {
            Tensor x = torch.embedding(embedding, device.place(Tensors.scopedLongs(ids, total)));
            Tensor[] cs = headAxis(rotary.rows(device.place(Tensors.scopedLongs(positions, total)), maxPosition));
            PrefixAttentionPlan plan = null;
            try {
                for (int l = 0; l < layers.length; l++) {
                    Tensor[] qkv = projectQkv(layers[l], x, cs[0], cs[1]);
                    for (int i = 0, offset = 0; i < b; offset += counts[i], i++) {
                        pool.append(
                                seqs[i], l, qkv[1].narrow(0, offset, counts[i]), qkv[2].narrow(0, offset, counts[i]));
                    }
                    if (plan == null) plan = PrefixAttentionPlan.prefill(pool, seqs, 0, counts);
                    x = attentionAndMlp(layers[l], x, qkv[0], pool, l, plan);
                }
            } finally {
                if (plan != null) plan.close();
            }
            out.copy_(torch.linear(
                    rmsNorm(x.index_select(0, device.place(Tensors.scopedLongs(last, b))), finalNorm), head));
        }
        return out;
    }

    /**
     * One decode step: appends {@code tokens[i]} to {@code seqs[i]} at every layer and returns the next-token logits
     * [B, V] float32 (caller's scope). Sequences that share leading blocks (forks of one prefix) read the shared
     * run once, through one {@link PrefixAttentionPlan#decodeShared} plan built for the step and used by every layer.
     */
    public Tensor decode(KvCache pool, int[] seqs, int[] tokens) {
        return decode(pool, seqs, tokens, MIN_SHARED_TOKENS);
    }

    /**
     * {@link #decode(KvCache, int[], int[])} sharing only runs of at least {@code minSharedTokens} positions
     * ({@link Integer#MAX_VALUE}: every sequence attends alone, plain paged decode; the unshared baseline).
     */
    public Tensor decode(KvCache pool, int[] seqs, int[] tokens, int minSharedTokens) {
        open();
        if (minSharedTokens < 1)
            throw new IllegalArgumentException("minSharedTokens must be >= 1, got " + minSharedTokens);
        checkPool(pool);
        if (seqs == null) throw new IllegalArgumentException("seqs must not be null");
        if (tokens == null) throw new IllegalArgumentException("tokens must not be null");
        if (tokens.length != seqs.length) {
            throw new IllegalArgumentException("tokens has " + tokens.length + " entries but seqs has " + seqs.length);
        }
        if (seqs.length == 0) throw new IllegalArgumentException("seqs must not be empty");
        checkIds(tokens, "tokens");
        int b = seqs.length;
        long[] positions = new long[b];
        int maxPosition = 0;
        for (int i = 0; i < b; i++) {
            positions[i] = checkedLength(pool, seqs[i], "seqs[" + i + "]");
            maxPosition = Math.max(maxPosition, (int) positions[i]);
        }
        checkDistinct(seqs);
        checkContext(maxPosition);
        Tensor out = torch.empty(new long[] {b, config.vocabSize()}, device.options(ScalarType.Float), null);
        try (PointerScope scope = new PointerScope();
                NoGradGuard guard = new NoGradGuard();
                Device.Current current = device.enter()) {
            Tensor x = torch.embedding(embedding, device.place(Tensors.scopedLongs(tokens)));
            Tensor[] cs = headAxis(rotary.rows(device.place(Tensors.scopedLongs(positions, b)), maxPosition));
            PrefixAttentionPlan plan = null;
            try {
                for (int l = 0; l < layers.length; l++) {
                    Tensor[] qkv = projectQkv(layers[l], x, cs[0], cs[1]);
                    pool.appendBatch(seqs, l, qkv[1], qkv[2]);
                    if (plan == null) {
                        plan = minSharedTokens == Integer.MAX_VALUE
                                ? PrefixAttentionPlan.decode(pool, seqs, 0)
                                : PrefixAttentionPlan.decodeShared(pool, seqs, 0, minSharedTokens);
                    }
                    x = attentionAndMlp(layers[l], x, qkv[0], pool, l, plan);
                }
            } finally {
                if (plan != null) plan.close();
            }
            out.copy_(torch.linear(rmsNorm(x, finalNorm), head));
        }
        return out;
    }

    /** {@link #prefill} with the logits returned as Java arrays: [B][V], each sequence's next-token logits. */
    public float[][] prefillArray(KvCache pool, int[] seqs, int[][] tokens) {
        try (PointerScope scope = new PointerScope()) {
            return Tensors.toFloatRows(prefill(pool, seqs, tokens));
        }
    }

    /** {@link #decode(KvCache, int[], int[])} with the logits returned as Java arrays: [B][V]. */
    public float[][] decodeArray(KvCache pool, int[] seqs, int[] tokens) {
        return decodeArray(pool, seqs, tokens, MIN_SHARED_TOKENS);
    }

    /** {@link #decode(KvCache, int[], int[], int)} with the logits returned as Java arrays: [B][V]. */
    public float[][] decodeArray(KvCache pool, int[] seqs, int[] tokens, int minSharedTokens) {
        try (PointerScope scope = new PointerScope()) {
            return Tensors.toFloatRows(decode(pool, seqs, tokens, minSharedTokens));
        }
    }

    /**
     * q [N, H, D], k and v [N, Hkv, D] (contiguous, rotated) of rows x [N, hidden] at the cos/sin± rows [N, 1, D]
     * ({@link #headAxis}).
     */
    private Tensor[] projectQkv(Layer layer, Tensor x, Tensor c, Tensor s) {
        long n = x.size(0);
        int d = config.headDim();
        Tensor h = rmsNorm(x, layer.inputNorm);
        Tensor q = Rotary.apply(linear(h, layer.q, layer.qBias).view(n, config.numHeads(), d), c, s, d)
                .contiguous();
        Tensor k = Rotary.apply(linear(h, layer.k, layer.kBias).view(n, config.numKvHeads(), d), c, s, d)
                .contiguous();
        Tensor v =
                linear(h, layer.v, layer.vBias).view(n, config.numKvHeads(), d).contiguous();
        return new Tensor[] {q, k, v};
    }

    /** cos and sin± rows [N, D] as [N, 1, D], broadcast over the heads: once per call, not once per layer. */
    private static Tensor[] headAxis(Tensor[] cs) {
        return new Tensor[] {cs[0].unsqueeze(1), cs[1].unsqueeze(1)};
    }

    private Tensor attentionAndMlp(Layer layer, Tensor x, Tensor q, KvCache pool, int l, PrefixAttentionPlan plan) {
        long n = x.size(0);
        Tensor a = torch.empty(
                new long[] {n, config.numHeads(), config.headDim()}, device.options(ScalarType.Float), null);
        attention.attend(pool, l, plan, attentionScale, q, a, null);
        x = x.add(linear(a.view(n, (long) config.numHeads() * config.headDim()), layer.o, layer.oBias));
        return x.add(mlp(rmsNorm(x, layer.postNorm), layer));
    }

    private Tensor mlp(Tensor x, Layer layer) {
        return torch.linear(torch.silu(torch.linear(x, layer.gate)).mul(torch.linear(x, layer.up)), layer.down);
    }

    private Tensor rmsNorm(Tensor x, Tensor weight) {
        return torch.rms_norm(
                x,
                new long[] {config.hiddenSize()},
                new TensorOptional(weight),
                new DoubleOptional(config.rmsNormEps()));
    }

    private static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        return bias == null ? torch.linear(x, weight) : torch.linear(x, weight, new TensorOptional(bias));
    }

    // ---- checks -------------------------------------------------------------------------------------------

    private void checkPool(KvCache pool) {
        if (pool == null) throw new IllegalArgumentException("pool must not be null");
        KvCacheConfig c = pool.config();
        if (c.numLayers() != config.numLayers()
                || c.kvHeads() != config.numKvHeads()
                || c.headDim() != config.headDim()) {
            throw new IllegalArgumentException(
                    "pool layout " + c + " does not match the model (layers " + config.numLayers() + ", KV heads "
                            + config.numKvHeads() + ", head dim " + config.headDim() + ")");
        }
        if ((pool.backend() == Backend.CUDA) != device.isCuda()) {
            throw new IllegalArgumentException("pool lives in " + (pool.backend() == Backend.CUDA ? "CUDA" : "host")
                    + " memory but the policy runs on " + device + " (Policy.createKvCache makes a pool there)");
        }
        if (device.isCuda() && pool.cudaDevice() != device.index()) {
            throw new IllegalArgumentException("pool lives on cuda:" + pool.cudaDevice() + " but the policy runs on "
                    + device + " (Policy.createKvCache makes a pool there)");
        }
    }

    /** The sequence's length, which must be the same at every layer (a decode step appends to all). */
    private int checkedLength(KvCache pool, int seq, String name) {
        if (!pool.isLive(seq))
            throw new IllegalArgumentException(name + " = " + seq + " is not a live sequence of pool");
        int len = pool.length(seq, 0);
        for (int l = 1; l < config.numLayers(); l++) {
            if (pool.length(seq, l) != len) {
                throw new IllegalArgumentException(name + " = " + seq + " has " + len + " tokens at layer 0 but "
                        + pool.length(seq, l) + " at layer " + l + " (appended outside the policy?)");
            }
        }
        return len;
    }

    private static void checkDistinct(int[] seqs) {
        int[] sorted = seqs.clone();
        Arrays.sort(sorted);
        for (int i = 1; i < sorted.length; i++) {
            if (sorted[i] == sorted[i - 1]) throw new IllegalArgumentException("seqs holds " + sorted[i] + " twice");
        }
    }

    private void checkIds(int[] ids, String name) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= config.vocabSize()) {
                throw new IllegalArgumentException(
                        name + "[" + i + "] = " + ids[i] + " is outside [0, V = " + config.vocabSize() + ")");
            }
        }
    }

    private void checkContext(int maxPosition) {
        if (maxPosition >= config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("position " + maxPosition + " is beyond the model's context of "
                    + config.maxPositionEmbeddings() + " tokens");
        }
    }

    private void checkTokenTensor(Tensor tokens) {
        if (tokens == null) throw new IllegalArgumentException("tokens must not be null");
        if (tokens.dim() != 2)
            throw new IllegalArgumentException("tokens must be [B, T], got " + tokens.dim() + " dims");
        if (tokens.scalar_type().value != ScalarType.Long.value) {
            throw new IllegalArgumentException("tokens must be int64");
        }
        if (tokens.numel() > 0) {
            long min = tokens.min().item_long(), max = tokens.max().item_long();
            if (min < 0 || max >= config.vocabSize()) {
                throw new IllegalArgumentException(
                        "tokens hold ids in [" + min + ", " + max + "], outside [0, V = " + config.vocabSize() + ")");
            }
        }
        if (tokens.size(1) > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("tokens has T = " + tokens.size(1)
                    + " positions, beyond the model's context of " + config.maxPositionEmbeddings());
        }
    }

    private void open() {
        if (closed) throw new IllegalStateException("the policy is closed");
    }

    /** Frees the parameters; any later use is an {@link IllegalStateException}. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        rotary.close();
        for (Tensor t : parameters.values()) t.releaseReference();
    }

    /** All parameter names, in checkpoint order. */
    public List<String> parameterNames() {
        return new ArrayList<>(parameters.keySet());
    }
}
