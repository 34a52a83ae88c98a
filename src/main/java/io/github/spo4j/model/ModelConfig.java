package io.github.spo4j.model;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import io.github.spo4j.model.io.AtomicFiles;
import io.github.spo4j.model.io.ConfigFormatException;
import io.github.spo4j.model.io.JsonErrors;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The architecture of a Llama / Qwen2 decoder-only transformer, as a Hugging Face {@code config.json}
 * describes it: token embedding [V, hidden]; L layers of
 * <pre>
 *   h = x + o_proj(attention(rope(q_proj(rms_norm(x))), rope(k_proj(·)), v_proj(·)))   H query heads, Hkv KV heads
 *   x = h + down_proj(silu(gate_proj(rms_norm(h))) · up_proj(rms_norm(h)))              intermediateSize wide
 * </pre>
 * then a final RMSNorm and the output head [V, hidden] (the embedding itself when {@code tieWordEmbeddings}).
 * q/k/v projections carry a bias when {@code attentionBias} (always for Qwen2; Llama's {@code attention_bias}
 * also gives o_proj a bias, see {@link #outputProjectionBias()}). RoPE rotates pairs (i, i + D/2) of each head
 * with the frequencies of {@link #ropeInverseFrequencies()}.
 *
 * @param architecture          LLAMA or QWEN2
 * @param vocabSize             V &gt;= 1
 * @param hiddenSize            model width &gt;= 1
 * @param intermediateSize      MLP width &gt;= 1
 * @param numLayers             L &gt;= 1
 * @param numHeads              H query heads &gt;= 1
 * @param numKvHeads            Hkv KV heads &gt;= 1, dividing H (grouped-query attention)
 * @param headDim               D &gt;= 2, even (HF default hiddenSize / H)
 * @param rmsNormEps            RMSNorm ε, finite and &gt; 0
 * @param ropeTheta             RoPE base θ, finite and &gt; 0
 * @param ropeScaling           the rope_scaling of the config (linear or llama3), or null for none
 * @param maxPositionEmbeddings the context the model was trained for, &gt;= 1
 * @param tieWordEmbeddings     the output head shares the embedding matrix
 * @param attentionBias         q/k/v projections have a bias (must be true for QWEN2)
 * @param bosTokenId            the BOS token, or {@link #NO_TOKEN}
 * @param eosTokenIds           the EOS tokens (HF allows one id or a list), possibly empty; each in [0, V)
 * @param torchDtype            the config's torch_dtype ("bfloat16", ...), informational; may be null
 */
public record ModelConfig(
        Architecture architecture,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        int bosTokenId,
        int[] eosTokenIds,
        String torchDtype) {

    /** The token-id sentinel for "none" (a config without bos_token_id). */
    public static final int NO_TOKEN = -1;

    /** The decoder families this project runs; each is one HF {@code model_type}. */
    public enum Architecture {
        LLAMA("llama", "LlamaForCausalLM", 2048),
        QWEN2("qwen2", "Qwen2ForCausalLM", 32768);

        /** The {@code model_type} of config.json. */
        public final String modelType;
        /** The transformers class named in {@code architectures}. */
        public final String hfClass;

        final int defaultMaxPositions;

        Architecture(String modelType, String hfClass, int defaultMaxPositions) {
            this.modelType = modelType;
            this.hfClass = hfClass;
            this.defaultMaxPositions = defaultMaxPositions;
        }

        /** The architecture of a {@code model_type}, or null. */
        public static Architecture ofModelType(String modelType) {
            for (Architecture a : values()) if (a.modelType.equals(modelType)) return a;
            return null;
        }
    }

    /**
     * RoPE frequency scaling (HF {@code rope_scaling}). With base frequencies f_i = θ^(−2i/D):
     * <pre>
     *   LINEAR: f_i / factor
     *   LLAMA3: wavelength λ_i = 2π / f_i; with λ_lo = original / lowFreqFactor, λ_hi = original / highFreqFactor:
     *           λ_i &lt; λ_hi: f_i;   λ_i &gt; λ_lo: f_i / factor;
     *           else (1 − s) f_i / factor + s f_i,  s = (original / λ_i − lowFreqFactor) / (highFreqFactor − lowFreqFactor)
     * </pre>
     * Other HF types (dynamic, yarn, longrope, ...) are rejected when a config is read.
     *
     * @param type                          LINEAR or LLAMA3
     * @param factor                        &gt;= 1
     * @param lowFreqFactor                 LLAMA3 only (0 for LINEAR), &gt; 0
     * @param highFreqFactor                LLAMA3 only (0 for LINEAR), &gt; lowFreqFactor
     * @param originalMaxPositionEmbeddings LLAMA3 only (0 for LINEAR), &gt;= 1
     */
    public record RopeScaling(
            Type type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings) {
        public enum Type {
            LINEAR,
            LLAMA3
        }

        public RopeScaling {
            require(type != null, "ropeScaling.type must not be null");
            require(
                    Double.isFinite(factor) && factor >= 1,
                    "ropeScaling.factor must be finite and >= 1, got " + factor);
            if (type == Type.LLAMA3) {
                require(
                        Double.isFinite(lowFreqFactor) && lowFreqFactor > 0,
                        "ropeScaling.lowFreqFactor must be finite and > 0, got " + lowFreqFactor);
                require(
                        Double.isFinite(highFreqFactor) && highFreqFactor > lowFreqFactor,
                        "ropeScaling.highFreqFactor must be finite and > lowFreqFactor = " + lowFreqFactor + ", got "
                                + highFreqFactor);
                require(
                        originalMaxPositionEmbeddings >= 1,
                        "ropeScaling.originalMaxPositionEmbeddings must be >= 1," + " got "
                                + originalMaxPositionEmbeddings);
            } else {
                require(
                        lowFreqFactor == 0 && highFreqFactor == 0 && originalMaxPositionEmbeddings == 0,
                        "LINEAR rope scaling has only a factor (the other fields must be 0)");
            }
        }

        public static RopeScaling linear(double factor) {
            return new RopeScaling(Type.LINEAR, factor, 0, 0, 0);
        }

        public static RopeScaling llama3(
                double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings) {
            return new RopeScaling(Type.LLAMA3, factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings);
        }

        /** The scaled frequency of base frequency {@code f}. */
        double apply(double f) {
            if (type == Type.LINEAR) return f / factor;
            double wavelen = 2 * Math.PI / f;
            double lowWavelen = originalMaxPositionEmbeddings / lowFreqFactor;
            double highWavelen = originalMaxPositionEmbeddings / highFreqFactor;
            if (wavelen < highWavelen) return f;
            if (wavelen > lowWavelen) return f / factor;
            double s = (originalMaxPositionEmbeddings / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
            return (1 - s) * f / factor + s * f;
        }
    }

    public ModelConfig {
        require(architecture != null, "architecture must not be null");
        require(vocabSize >= 1, "vocabSize must be >= 1, got " + vocabSize);
        require(hiddenSize >= 1, "hiddenSize must be >= 1, got " + hiddenSize);
        require(intermediateSize >= 1, "intermediateSize must be >= 1, got " + intermediateSize);
        require(numLayers >= 1, "numLayers must be >= 1, got " + numLayers);
        require(numHeads >= 1, "numHeads must be >= 1, got " + numHeads);
        require(numKvHeads >= 1, "numKvHeads must be >= 1, got " + numKvHeads);
        require(
                numHeads % numKvHeads == 0,
                "numHeads = " + numHeads + " must be a multiple of numKvHeads = " + numKvHeads);
        require(headDim >= 2 && headDim % 2 == 0, "headDim must be even and >= 2 (RoPE rotates pairs), got " + headDim);
        require(Double.isFinite(rmsNormEps) && rmsNormEps > 0, "rmsNormEps must be finite and > 0, got " + rmsNormEps);
        require(Double.isFinite(ropeTheta) && ropeTheta > 0, "ropeTheta must be finite and > 0, got " + ropeTheta);
        require(maxPositionEmbeddings >= 1, "maxPositionEmbeddings must be >= 1, got " + maxPositionEmbeddings);
        require(
                architecture != Architecture.QWEN2 || attentionBias,
                "attentionBias must be true for QWEN2 (its q/k/v projections always have a bias)");
        require(
                bosTokenId == NO_TOKEN || (bosTokenId >= 0 && bosTokenId < vocabSize),
                "bosTokenId must be in [0, vocabSize = " + vocabSize + ") or NO_TOKEN, got " + bosTokenId);
        require(eosTokenIds != null, "eosTokenIds must not be null (empty for none)");
        eosTokenIds = eosTokenIds.clone();
        for (int i = 0; i < eosTokenIds.length; i++) {
            require(
                    eosTokenIds[i] >= 0 && eosTokenIds[i] < vocabSize,
                    "eosTokenIds[" + i + "] = " + eosTokenIds[i] + " is outside [0, vocabSize = " + vocabSize + ")");
        }
    }

    /**
     * A small Llama- or Qwen2-shaped configuration for tests and the built-in task: hidden 64, intermediate 128,
     * 2 layers, 4 heads of 16, 2 KV heads, RMSNorm ε 1e-6, θ 10000, 2048 positions, tied embeddings, fp32.
     */
    public static ModelConfig tiny(Architecture architecture, int vocabSize, int bosTokenId, int eosTokenId) {
        require(architecture != null, "architecture must not be null");
        return new ModelConfig(
                architecture,
                vocabSize,
                64,
                128,
                2,
                4,
                2,
                16,
                1e-6,
                10000.0,
                null,
                2048,
                true,
                architecture == Architecture.QWEN2,
                bosTokenId,
                new int[] {eosTokenId},
                "float32");
    }

    /** {@link #tiny(Architecture, int, int, int)} as a Llama with V = 64, BOS 1, EOS 2. */
    public static ModelConfig tiny() {
        return tiny(Architecture.LLAMA, 64, 1, 2);
    }

    @Override
    public int[] eosTokenIds() {
        return eosTokenIds.clone();
    }

    /** Whether {@code token} is one of the EOS tokens. */
    public boolean isEos(int token) {
        for (int e : eosTokenIds) if (e == token) return true;
        return false;
    }

    /** o_proj has a bias: Llama with attention_bias (Qwen2's o_proj never has one). */
    public boolean outputProjectionBias() {
        return architecture == Architecture.LLAMA && attentionBias;
    }

    /** Query heads per KV head: H / Hkv. */
    public int groupSize() {
        return numHeads / numKvHeads;
    }

    /** The D/2 RoPE frequencies θ^(−2i/D), i = 0..D/2−1, after {@link #ropeScaling} (as HF computes them). */
    public double[] ropeInverseFrequencies() {
        double[] f = new double[headDim / 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = 1.0 / Math.pow(ropeTheta, (2.0 * i) / headDim);
            if (ropeScaling != null) f[i] = ropeScaling.apply(f[i]);
        }
        return f;
    }

    // ---------------------------------------------------------------------------------------- config.json

    /**
     * Reads a Hugging Face {@code config.json} of model_type "llama" or "qwen2". Required: model_type,
     * vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads. Defaults as in
     * transformers: num_key_value_heads = heads, head_dim = hidden / heads, rms_norm_eps 1e-6, rope_theta 10000,
     * max_position_embeddings 2048 (llama) / 32768 (qwen2), tie_word_embeddings and attention_bias false, no
     * BOS / EOS. rope_scaling of type linear or llama3 is kept (the transformers 5 {@code rope_parameters}
     * form too); other types, hidden_act other than silu, mlp_bias and Qwen2's use_sliding_window are rejected
     * because the model does not implement them.
     *
     * @throws ConfigFormatException naming the file and field on any problem
     */
    public static ModelConfig fromJson(Path configJson) throws IOException {
        if (configJson == null) throw new IllegalArgumentException("configJson must not be null");
        return parse(configJson, Files.readString(configJson, StandardCharsets.UTF_8));
    }

    /** As {@link #fromJson(Path)}, from the JSON text. */
    public static ModelConfig fromJson(String json) throws ConfigFormatException {
        if (json == null) throw new IllegalArgumentException("json must not be null");
        return parse(null, json);
    }

    private static ModelConfig parse(Path file, String json) throws ConfigFormatException {
        JsonObject o;
        try {
            JsonElement root = JsonParser.parseString(json);
            if (!root.isJsonObject()) throw new ConfigFormatException(file, null, "is not a JSON object");
            o = root.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new ConfigFormatException(file, null, "is not valid JSON: " + JsonErrors.reason(e), e);
        }
        Fields f = new Fields(file, o);
        String modelType = f.string("model_type", null);
        Architecture arch = Architecture.ofModelType(modelType);
        if (arch == null) {
            throw new ConfigFormatException(
                    file, "model_type", "'" + modelType + "' is not supported (supported: " + "llama, qwen2)");
        }
        String act = f.string("hidden_act", "silu");
        if (!act.equals("silu"))
            throw new ConfigFormatException(file, "hidden_act", "'" + act + "' is not supported (silu only)");
        if (f.bool("mlp_bias", false)) throw new ConfigFormatException(file, "mlp_bias", "true is not supported");
        if (arch == Architecture.QWEN2 && f.bool("use_sliding_window", false)) {
            throw new ConfigFormatException(file, "use_sliding_window", "true is not supported (full attention only)");
        }
        int hidden = f.integer("hidden_size", null);
        int heads = f.integer("num_attention_heads", null);
        Integer headDim = f.has("head_dim") ? f.integer("head_dim", null) : null;
        if (headDim == null) {
            if (heads <= 0 || hidden % heads != 0) {
                throw new ConfigFormatException(
                        file,
                        "head_dim",
                        "absent, and hidden_size = " + hidden + " is not a multiple of num_attention_heads = " + heads);
            }
            headDim = hidden / heads;
        }
        JsonObject ropeParams = f.object("rope_parameters");
        double theta;
        if (f.has("rope_theta")) theta = f.number("rope_theta", null);
        else if (ropeParams != null && ropeParams.has("rope_theta")) {
            theta = new Fields(file, ropeParams, "rope_parameters.").number("rope_theta", null);
        } else theta = 10000.0;
        RopeScaling scaling = f.has("rope_scaling")
                ? ropeScaling(file, f.object("rope_scaling"), "rope_scaling.")
                : ropeScaling(file, ropeParams, "rope_parameters.");
        int[] eos = f.tokenIds("eos_token_id");
        Integer bos = f.has("bos_token_id") ? f.integer("bos_token_id", null) : null;
        String dtype =
                f.has("torch_dtype") ? f.string("torch_dtype", null) : f.has("dtype") ? f.string("dtype", null) : null;
        try {
            return new ModelConfig(
                    arch,
                    f.integer("vocab_size", null),
                    hidden,
                    f.integer("intermediate_size", null),
                    f.integer("num_hidden_layers", null),
                    heads,
                    f.integer("num_key_value_heads", heads),
                    headDim,
                    f.number("rms_norm_eps", 1e-6),
                    theta,
                    scaling,
                    f.integer("max_position_embeddings", arch.defaultMaxPositions),
                    f.bool("tie_word_embeddings", false),
                    arch == Architecture.QWEN2 || f.bool("attention_bias", false),
                    bos == null ? NO_TOKEN : bos,
                    eos,
                    dtype);
        } catch (IllegalArgumentException e) {
            throw new ConfigFormatException(file, null, e.getMessage(), e);
        }
    }

    private static RopeScaling ropeScaling(Path file, JsonObject s, String prefix) throws ConfigFormatException {
        if (s == null) return null;
        Fields f = new Fields(file, s, prefix);
        String key = s.has("rope_type") ? "rope_type" : "type";
        String type = f.string(key, null);
        try {
            switch (type) {
                case "default":
                    return null;
                case "linear":
                    return RopeScaling.linear(f.number("factor", null));
                case "llama3":
                    return RopeScaling.llama3(
                            f.number("factor", null),
                            f.number("low_freq_factor", null),
                            f.number("high_freq_factor", null),
                            f.integer("original_max_position_embeddings", null));
                default:
                    throw new ConfigFormatException(
                            file,
                            prefix + key,
                            "'" + type + "' is not supported (supported:" + " default, linear, llama3)");
            }
        } catch (IllegalArgumentException e) {
            throw new ConfigFormatException(file, prefix.substring(0, prefix.length() - 1), e.getMessage(), e);
        }
    }

    /**
     * A config.json that transformers reads back as this configuration: keys sorted, two-space indent
     * (as {@code PretrainedConfig.to_json_string}).
     */
    public String toJson() {
        Map<String, JsonElement> m = new TreeMap<>();
        JsonArray archs = new JsonArray();
        archs.add(architecture.hfClass);
        m.put("architectures", archs);
        m.put("model_type", new JsonPrimitive(architecture.modelType));
        m.put("hidden_act", new JsonPrimitive("silu"));
        m.put("vocab_size", new JsonPrimitive(vocabSize));
        m.put("hidden_size", new JsonPrimitive(hiddenSize));
        m.put("intermediate_size", new JsonPrimitive(intermediateSize));
        m.put("num_hidden_layers", new JsonPrimitive(numLayers));
        m.put("num_attention_heads", new JsonPrimitive(numHeads));
        m.put("num_key_value_heads", new JsonPrimitive(numKvHeads));
        m.put("head_dim", new JsonPrimitive(headDim));
        m.put("rms_norm_eps", new JsonPrimitive(rmsNormEps));
        m.put("rope_theta", new JsonPrimitive(ropeTheta));
        m.put("max_position_embeddings", new JsonPrimitive(maxPositionEmbeddings));
        m.put("tie_word_embeddings", new JsonPrimitive(tieWordEmbeddings));
        if (architecture == Architecture.LLAMA) {
            m.put("attention_bias", new JsonPrimitive(attentionBias));
            m.put("mlp_bias", new JsonPrimitive(false));
        } else {
            m.put("use_sliding_window", new JsonPrimitive(false));
        }
        m.put("bos_token_id", bosTokenId == NO_TOKEN ? JsonNull.INSTANCE : new JsonPrimitive(bosTokenId));
        JsonElement eos;
        if (eosTokenIds.length == 0) eos = JsonNull.INSTANCE;
        else if (eosTokenIds.length == 1) eos = new JsonPrimitive(eosTokenIds[0]);
        else {
            JsonArray a = new JsonArray();
            for (int e : eosTokenIds) a.add(e);
            eos = a;
        }
        m.put("eos_token_id", eos);
        if (ropeScaling == null) m.put("rope_scaling", JsonNull.INSTANCE);
        else {
            JsonObject s = new JsonObject();
            s.addProperty("factor", ropeScaling.factor());
            if (ropeScaling.type() == RopeScaling.Type.LLAMA3) {
                s.addProperty("high_freq_factor", ropeScaling.highFreqFactor());
                s.addProperty("low_freq_factor", ropeScaling.lowFreqFactor());
                s.addProperty("original_max_position_embeddings", ropeScaling.originalMaxPositionEmbeddings());
            }
            s.addProperty("rope_type", ropeScaling.type().name().toLowerCase(Locale.ROOT));
            m.put("rope_scaling", s);
        }
        if (torchDtype != null) m.put("torch_dtype", new JsonPrimitive(torchDtype));
        JsonObject o = new JsonObject();
        m.forEach(o::add);
        return new GsonBuilder()
                        .setPrettyPrinting()
                        .serializeNulls()
                        .disableHtmlEscaping()
                        .create()
                        .toJson(o) + "\n";
    }

    /** Writes {@link #toJson()} to {@code file} atomically. */
    public void writeJson(Path file) throws IOException {
        AtomicFiles.write(file, toJson().getBytes(StandardCharsets.UTF_8));
    }

    // ---------------------------------------------------------------------------------------- record plumbing

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelConfig c
                && architecture == c.architecture
                && vocabSize == c.vocabSize
                && hiddenSize == c.hiddenSize
                && intermediateSize == c.intermediateSize
                && numLayers == c.numLayers
                && numHeads == c.numHeads
                && numKvHeads == c.numKvHeads
                && headDim == c.headDim
                && Double.compare(rmsNormEps, c.rmsNormEps) == 0
                && Double.compare(ropeTheta, c.ropeTheta) == 0
                && java.util.Objects.equals(ropeScaling, c.ropeScaling)
                && maxPositionEmbeddings == c.maxPositionEmbeddings
                && tieWordEmbeddings == c.tieWordEmbeddings
                && attentionBias == c.attentionBias
                && bosTokenId == c.bosTokenId
                && Arrays.equals(eosTokenIds, c.eosTokenIds)
                && java.util.Objects.equals(torchDtype, c.torchDtype);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(
                architecture,
                vocabSize,
                hiddenSize,
                intermediateSize,
                numLayers,
                numHeads,
                numKvHeads,
                headDim,
                rmsNormEps,
                ropeTheta,
                ropeScaling,
                maxPositionEmbeddings,
                tieWordEmbeddings,
                attentionBias,
                bosTokenId,
                Arrays.hashCode(eosTokenIds),
                torchDtype);
    }

    @Override
    public String toString() {
        return "ModelConfig[" + architecture + ", V=" + vocabSize + ", hidden=" + hiddenSize + ", intermediate="
                + intermediateSize + ", L=" + numLayers + ", H=" + numHeads + ", Hkv=" + numKvHeads + ", D=" + headDim
                + ", eps=" + rmsNormEps + ", theta=" + ropeTheta + ", ropeScaling=" + ropeScaling + ", maxPos="
                + maxPositionEmbeddings + ", tied=" + tieWordEmbeddings + ", attentionBias=" + attentionBias
                + ", bos=" + bosTokenId + ", eos=" + Arrays.toString(eosTokenIds) + ", dtype=" + torchDtype + "]";
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    /** Typed access to a JSON object's fields; errors name the file and field (with its path prefix). */
    private static final class Fields {
        private final Path file;
        private final JsonObject o;
        private final String prefix;

        Fields(Path file, JsonObject o) {
            this(file, o, "");
        }

        Fields(Path file, JsonObject o, String prefix) {
            this.file = file;
            this.o = o;
            this.prefix = prefix;
        }

        boolean has(String key) {
            return o.has(key) && !o.get(key).isJsonNull();
        }

        private JsonElement get(String key, Object dflt) throws ConfigFormatException {
            if (has(key)) return o.get(key);
            if (dflt == null) throw new ConfigFormatException(file, prefix + key, "is missing");
            return null;
        }

        String string(String key, String dflt) throws ConfigFormatException {
            JsonElement v = get(key, dflt);
            if (v == null) return dflt;
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) throw bad(key, v, "a string");
            return v.getAsString();
        }

        boolean bool(String key, boolean dflt) throws ConfigFormatException {
            JsonElement v = get(key, dflt);
            if (v == null) return dflt;
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isBoolean()) throw bad(key, v, "true or false");
            return v.getAsBoolean();
        }

        double number(String key, Double dflt) throws ConfigFormatException {
            JsonElement v = get(key, dflt);
            if (v == null) return dflt;
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) throw bad(key, v, "a number");
            return v.getAsDouble();
        }

        int integer(String key, Integer dflt) throws ConfigFormatException {
            JsonElement v = get(key, dflt);
            if (v == null) return dflt;
            return toInt(key, v);
        }

        JsonObject object(String key) throws ConfigFormatException {
            if (!has(key)) return null;
            JsonElement v = o.get(key);
            if (!v.isJsonObject()) throw bad(key, v, "an object");
            return v.getAsJsonObject();
        }

        /** An id or a list of ids; absent or null is none. */
        int[] tokenIds(String key) throws ConfigFormatException {
            if (!has(key)) return new int[0];
            JsonElement v = o.get(key);
            if (!v.isJsonArray()) return new int[] {toInt(key, v)};
            JsonArray a = v.getAsJsonArray();
            int[] r = new int[a.size()];
            for (int i = 0; i < r.length; i++) r[i] = toInt(key + "[" + i + "]", a.get(i));
            return r;
        }

        private int toInt(String key, JsonElement v) throws ConfigFormatException {
            if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber()) {
                try {
                    return new BigDecimal(v.getAsString()).intValueExact();
                } catch (ArithmeticException | NumberFormatException e) {
                    // falls through to the error below
                }
            }
            throw bad(key, v, "a 32-bit integer");
        }

        private ConfigFormatException bad(String key, JsonElement v, String expected) {
            return new ConfigFormatException(file, prefix + key, "is " + v + ", expected " + expected);
        }
    }
}
