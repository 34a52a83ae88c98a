package io.github.spo4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.model.ModelConfig.Architecture;
import io.github.spo4j.model.ModelConfig.RopeScaling;
import io.github.spo4j.model.io.ConfigFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigTest {
    /** Qwen/Qwen2-0.5B config.json (public). */
    static final String QWEN2_0_5B = """
            {
              "architectures": ["Qwen2ForCausalLM"],
              "attention_dropout": 0.0,
              "bos_token_id": 151643,
              "eos_token_id": 151643,
              "hidden_act": "silu",
              "hidden_size": 896,
              "initializer_range": 0.02,
              "intermediate_size": 4864,
              "max_position_embeddings": 131072,
              "max_window_layers": 24,
              "model_type": "qwen2",
              "num_attention_heads": 14,
              "num_hidden_layers": 24,
              "num_key_value_heads": 2,
              "rms_norm_eps": 1e-06,
              "rope_theta": 1000000.0,
              "sliding_window": 131072,
              "tie_word_embeddings": true,
              "torch_dtype": "bfloat16",
              "transformers_version": "4.40.1",
              "use_cache": true,
              "use_sliding_window": false,
              "vocab_size": 151936
            }
            """;

    /** meta-llama/Llama-3.2-1B-Instruct config.json (public). */
    static final String LLAMA_3_2_1B = """
            {
              "architectures": ["LlamaForCausalLM"],
              "attention_bias": false,
              "attention_dropout": 0.0,
              "bos_token_id": 128000,
              "eos_token_id": [128001, 128008, 128009],
              "head_dim": 64,
              "hidden_act": "silu",
              "hidden_size": 2048,
              "initializer_range": 0.02,
              "intermediate_size": 8192,
              "max_position_embeddings": 131072,
              "mlp_bias": false,
              "model_type": "llama",
              "num_attention_heads": 32,
              "num_hidden_layers": 16,
              "num_key_value_heads": 8,
              "pretraining_tp": 1,
              "rms_norm_eps": 1e-05,
              "rope_scaling": {
                "factor": 32.0,
                "high_freq_factor": 4.0,
                "low_freq_factor": 1.0,
                "original_max_position_embeddings": 8192,
                "rope_type": "llama3"
              },
              "rope_theta": 500000.0,
              "tie_word_embeddings": true,
              "torch_dtype": "bfloat16",
              "transformers_version": "4.45.0.dev0",
              "use_cache": true,
              "vocab_size": 128256
            }
            """;

    @TempDir
    Path dir;

    @Test
    void qwen2_0_5B() throws Exception {
        ModelConfig c = ModelConfig.fromJson(QWEN2_0_5B);
        assertEquals(
                new ModelConfig(
                        Architecture.QWEN2,
                        151936,
                        896,
                        4864,
                        24,
                        14,
                        2,
                        64,
                        1e-6,
                        1e6,
                        null,
                        131072,
                        true,
                        true,
                        151643,
                        new int[] {151643},
                        "bfloat16"),
                c);
        assertEquals(7, c.groupSize());
        assertTrue(c.attentionBias());
        assertFalse(c.outputProjectionBias());
        assertTrue(c.isEos(151643));
    }

    @Test
    void llama3_2_1B() throws Exception {
        Path p = Files.writeString(dir.resolve("config.json"), LLAMA_3_2_1B);
        ModelConfig c = ModelConfig.fromJson(p);
        assertEquals(Architecture.LLAMA, c.architecture());
        assertEquals(128256, c.vocabSize());
        assertEquals(2048, c.hiddenSize());
        assertEquals(8192, c.intermediateSize());
        assertEquals(16, c.numLayers());
        assertEquals(32, c.numHeads());
        assertEquals(8, c.numKvHeads());
        assertEquals(64, c.headDim());
        assertEquals(1e-5, c.rmsNormEps());
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(131072, c.maxPositionEmbeddings());
        assertTrue(c.tieWordEmbeddings());
        assertFalse(c.attentionBias());
        assertEquals(128000, c.bosTokenId());
        assertArrayEquals(new int[] {128001, 128008, 128009}, c.eosTokenIds());
        assertEquals(RopeScaling.llama3(32, 1, 4, 8192), c.ropeScaling());
        assertEquals("bfloat16", c.torchDtype());
    }

    @Test
    void llama3RopeFrequencies() throws Exception {
        double[] f = ModelConfig.fromJson(LLAMA_3_2_1B).ropeInverseFrequencies();
        assertEquals(32, f.length);
        // Values of transformers' _compute_llama3_parameters (θ 500000, D 64, factor 32, low 1, high 4, 8192):
        assertEquals(1.0, f[0], 0); // wavelength 2π < 2048: unchanged
        assertEquals(9.70828780262767e-05, f[17], 1e-18); // wavelength 6695: smoothed
        assertEquals(9.418306725434909e-08, f[31], 1e-21); // wavelength 2.08e6 > 8192: divided by 32
        double[] plain = ModelConfig.fromJson(QWEN2_0_5B).ropeInverseFrequencies();
        assertEquals(Math.pow(1e6, -2.0 * 5 / 64), plain[5], 1e-15);
    }

    @Test
    void toJsonRoundTrips() throws Exception {
        for (ModelConfig c : new ModelConfig[] {
            ModelConfig.fromJson(QWEN2_0_5B),
            ModelConfig.fromJson(LLAMA_3_2_1B),
            ModelConfig.tiny(),
            ModelConfig.tiny(Architecture.QWEN2, 40, ModelConfig.NO_TOKEN, 3)
        }) {
            assertEquals(c, ModelConfig.fromJson(c.toJson()), c.toJson());
        }
        ModelConfig linear = new ModelConfig(
                Architecture.LLAMA,
                10,
                8,
                16,
                1,
                2,
                1,
                4,
                1e-5,
                1e4,
                RopeScaling.linear(2),
                64,
                false,
                true,
                ModelConfig.NO_TOKEN,
                new int[0],
                null);
        assertEquals(linear, ModelConfig.fromJson(linear.toJson()));
        assertTrue(linear.outputProjectionBias());
        Path p = dir.resolve("config.json");
        linear.writeJson(p);
        assertEquals(linear, ModelConfig.fromJson(p));
    }

    @Test
    void toJsonIsWhatTransformersReads() throws Exception {
        String json = ModelConfig.fromJson(QWEN2_0_5B).toJson();
        assertTrue(json.contains("\"model_type\": \"qwen2\""), json);
        assertTrue(json.contains("\"architectures\": [\n    \"Qwen2ForCausalLM\"\n  ]"), json);
        assertTrue(json.contains("\"eos_token_id\": 151643,"), json);
        assertTrue(json.contains("\"rope_scaling\": null"), json);
        assertTrue(json.indexOf("\"architectures\"") < json.indexOf("\"vocab_size\""), "keys sorted");
        String llama = ModelConfig.fromJson(LLAMA_3_2_1B).toJson();
        assertTrue(llama.contains("\"rope_type\": \"llama3\""), llama);
        assertTrue(llama.contains("\"original_max_position_embeddings\": 8192"), llama);
    }

    @Test
    void tinyConfig() {
        ModelConfig t = ModelConfig.tiny();
        assertEquals(64, t.vocabSize());
        assertEquals(64, t.hiddenSize());
        assertEquals(128, t.intermediateSize());
        assertEquals(2, t.numLayers());
        assertEquals(4, t.numHeads());
        assertEquals(2, t.numKvHeads());
        assertEquals(16, t.headDim());
        assertNull(t.ropeScaling());
    }

    private static ConfigFormatException rejected(String json, String field, String phrase) {
        ConfigFormatException e = assertThrows(ConfigFormatException.class, () -> ModelConfig.fromJson(json));
        assertEquals(field, e.field(), e.getMessage());
        assertTrue(e.getMessage().contains(phrase), e.getMessage());
        return e;
    }

    @Test
    void unknownModelTypeIsNamed() {
        rejected(QWEN2_0_5B.replace("\"qwen2\"", "\"mistral\""), "model_type", "'mistral' is not supported");
        rejected(QWEN2_0_5B.replace("\"model_type\": \"qwen2\",", ""), "model_type", "is missing");
    }

    @Test
    void missingOrBadFieldsAreNamed() throws Exception {
        rejected(QWEN2_0_5B.replace("\"hidden_size\": 896,", ""), "hidden_size", "is missing");
        rejected(
                QWEN2_0_5B.replace("\"vocab_size\": 151936", "\"vocab_size\": \"many\""),
                "vocab_size",
                "expected a 32-bit integer");
        rejected(
                QWEN2_0_5B.replace("\"num_hidden_layers\": 24", "\"num_hidden_layers\": 2.5"),
                "num_hidden_layers",
                "expected a 32-bit integer");
        rejected("[1, 2]", null, "not a JSON object");
        rejected("{\"model_type\": ", null, "not valid JSON");
        rejected(
                QWEN2_0_5B.replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3"),
                null,
                "must be a multiple of numKvHeads = 3");
        rejected(QWEN2_0_5B.replace("\"bos_token_id\": 151643", "\"bos_token_id\": 200000"), null, "bosTokenId");
        Path p = Files.writeString(dir.resolve("config.json"), QWEN2_0_5B.replace("\"hidden_size\": 896,", ""));
        ConfigFormatException e = assertThrows(ConfigFormatException.class, () -> ModelConfig.fromJson(p));
        assertEquals(p, e.file());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
    }

    @Test
    void unsupportedFeaturesAreRejected() {
        rejected(LLAMA_3_2_1B.replace("\"llama3\"", "\"yarn\""), "rope_scaling.rope_type", "'yarn' is not supported");
        rejected(
                LLAMA_3_2_1B.replace("\"low_freq_factor\": 1.0", "\"low_freq_factor\": 5.0"),
                "rope_scaling",
                "highFreqFactor");
        rejected(LLAMA_3_2_1B.replace("\"mlp_bias\": false", "\"mlp_bias\": true"), "mlp_bias", "not supported");
        rejected(LLAMA_3_2_1B.replace("\"hidden_act\": \"silu\"", "\"hidden_act\": \"gelu\""), "hidden_act", "'gelu'");
        rejected(
                QWEN2_0_5B.replace("\"use_sliding_window\": false", "\"use_sliding_window\": true"),
                "use_sliding_window",
                "not supported");
    }

    @Test
    void defaultsAndTransformers5RopeParameters() throws Exception {
        ModelConfig c = ModelConfig.fromJson("{\"model_type\": \"llama\", \"vocab_size\": 100, \"hidden_size\": 64,"
                + " \"intermediate_size\": 96, \"num_hidden_layers\": 2, \"num_attention_heads\": 8,"
                + " \"rope_parameters\": {\"rope_type\": \"linear\", \"factor\": 4.0, \"rope_theta\": 1000.0}}");
        assertEquals(8, c.numKvHeads());
        assertEquals(8, c.headDim());
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(1000.0, c.ropeTheta());
        assertEquals(RopeScaling.linear(4), c.ropeScaling());
        assertEquals(2048, c.maxPositionEmbeddings());
        assertFalse(c.tieWordEmbeddings());
        assertEquals(ModelConfig.NO_TOKEN, c.bosTokenId());
        assertEquals(0, c.eosTokenIds().length);
        assertEquals(0.25 * Math.pow(1000.0, -2.0 / 8), c.ropeInverseFrequencies()[1], 1e-15);
    }

    @Test
    void constructorValidates() {
        assertThrows(
                IllegalArgumentException.class,
                () -> new ModelConfig(
                        Architecture.QWEN2,
                        64,
                        64,
                        128,
                        2,
                        4,
                        2,
                        16,
                        1e-6,
                        1e4,
                        null,
                        128,
                        true,
                        false,
                        1,
                        new int[] {2},
                        null));
        assertThrows(
                IllegalArgumentException.class,
                () -> new ModelConfig(
                        Architecture.LLAMA,
                        64,
                        64,
                        128,
                        2,
                        4,
                        2,
                        15,
                        1e-6,
                        1e4,
                        null,
                        128,
                        true,
                        false,
                        1,
                        new int[] {2},
                        null));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ModelConfig.tiny(Architecture.LLAMA, 64, 1, 64));
        assertTrue(e.getMessage().contains("eosTokenIds[0] = 64"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RopeScaling.llama3(0.5, 1, 4, 8192));
    }
}
