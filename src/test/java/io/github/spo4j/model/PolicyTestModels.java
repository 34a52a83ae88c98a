package io.github.spo4j.model;

import io.github.spo4j.model.ModelConfig.Architecture;

/** Small random configurations for the policy tests: odd sizes, GQA, both architectures, tied and untied. */
final class PolicyTestModels {
    private PolicyTestModels() {}

    /** Llama, V = 37, hidden 24, 3 layers, 6 heads of 4 over 2 KV heads, untied head. */
    static ModelConfig llama() {
        return new ModelConfig(
                Architecture.LLAMA,
                37,
                24,
                40,
                3,
                6,
                2,
                4,
                1e-6,
                10000.0,
                null,
                512,
                false,
                false,
                1,
                new int[] {2},
                "float32");
    }

    /** Qwen2 (QKV bias), V = 29, hidden 16, 2 layers, 4 heads of 8 over 1 KV head, tied head. */
    static ModelConfig qwen2() {
        return new ModelConfig(
                Architecture.QWEN2,
                29,
                16,
                24,
                2,
                4,
                1,
                8,
                1e-6,
                1000000.0,
                null,
                512,
                true,
                true,
                1,
                new int[] {2},
                "float32");
    }

    /** Llama with attention_bias (o_proj bias too) and llama3 rope scaling. */
    static ModelConfig llamaBiasScaled() {
        return new ModelConfig(
                Architecture.LLAMA,
                31,
                16,
                20,
                2,
                2,
                2,
                8,
                1e-5,
                500000.0,
                ModelConfig.RopeScaling.llama3(8.0, 1.0, 4.0, 64),
                512,
                true,
                true,
                ModelConfig.NO_TOKEN,
                new int[] {2},
                "float32");
    }

    static Policy random(ModelConfig c, long seed) {
        return io.github.spo4j.testutil.TestPolicies.sharp(c, seed);
    }
}
