package io.github.spo4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.model.io.ConfigFormatException;
import io.github.spo4j.model.io.SafeTensorsDType;
import io.github.spo4j.model.io.SafeTensorsFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.ShortPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model directories: save and load, the three weight dtypes, and clear errors for broken ones. */
class PolicyCheckpointTest {
    @TempDir
    Path dir;

    static final int[] TOKENS = {1, 5, 9, 3, 0, 7, 7, 2, 11, 4, 6};

    static float[] logits(Policy p) {
        try (PointerScope s = new PointerScope()) {
            return Tensors.toFloats(p.logits(
                    Tensors.scopedLongs(Arrays.stream(TOKENS).asLongStream().toArray(), 1, TOKENS.length)));
        }
    }

    @Test
    void fp32RoundTripGivesIdenticalLogits() throws IOException {
        for (ModelConfig c : new ModelConfig[] {
            PolicyTestModels.llama(), PolicyTestModels.qwen2(), PolicyTestModels.llamaBiasScaled()
        }) {
            Path d = dir.resolve(c.architecture() + "-" + c.vocabSize());
            try (Policy p = PolicyTestModels.random(c, 31)) {
                p.save(d);
                assertTrue(Files.exists(d.resolve("config.json")));
                assertTrue(Files.exists(d.resolve("model.safetensors")));
                try (Policy q = Policy.load(d)) {
                    assertEquals(c, q.config());
                    assertEquals(p.parameterNames(), q.parameterNames());
                    assertArrayEquals(logits(p), logits(q), c + ": identical logits after a round trip");
                }
            }
            try (var files = Files.list(d)) {
                assertEquals(2, files.count(), "no temp file left behind");
            }
        }
    }

    @Test
    void tiedHeadIsNotWrittenAndUntiedHeadIs() throws IOException {
        try (Policy tied = PolicyTestModels.random(PolicyTestModels.qwen2(), 1);
                Policy untied = PolicyTestModels.random(PolicyTestModels.llama(), 1)) {
            tied.save(dir.resolve("tied"));
            untied.save(dir.resolve("untied"));
            try (var r = io.github.spo4j.model.io.SafeTensors.open(dir.resolve("tied"))) {
                assertFalse(r.contains(Policy.HEAD));
            }
            try (var r = io.github.spo4j.model.io.SafeTensors.open(dir.resolve("untied"))) {
                assertTrue(r.contains(Policy.HEAD));
            }
        }
    }

    @Test
    void bf16AndFp16WeightsLoadAsTheirRoundedValues() throws IOException {
        ModelConfig c = PolicyTestModels.llama();
        try (Policy p = PolicyTestModels.random(c, 32)) {
            p.save(dir.resolve("bf16"), SafeTensorsDType.BF16);
            writeFp16(p, dir.resolve("fp16"));
            for (String kind : new String[] {"bf16", "fp16"}) {
                ScalarType half = kind.equals("bf16") ? ScalarType.BFloat16 : ScalarType.Half;
                try (Policy q = Policy.load(dir.resolve(kind));
                        PointerScope s = new PointerScope()) {
                    for (Map.Entry<String, Tensor> e : p.namedParameters().entrySet()) {
                        float[] rounded =
                                Tensors.toFloats(e.getValue().detach().to(half).to(ScalarType.Float));
                        assertArrayEquals(
                                rounded,
                                Tensors.toFloats(q.namedParameters().get(e.getKey())),
                                kind + " " + e.getKey());
                    }
                    float[] a = logits(p), b = logits(q);
                    io.github.spo4j.testutil.Close.assertAllClose(kind + " logits near fp32", a, b, 0.05, 0.05);
                }
            }
        }
    }

    /** Writes the policy's weights as fp16 (converted by libtorch) in a hand-built safetensors file. */
    static void writeFp16(Policy p, Path d) throws IOException {
        Files.createDirectories(d);
        p.config().writeJson(d.resolve("config.json"));
        StringBuilder header = new StringBuilder("{");
        java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
        try (PointerScope s = new PointerScope()) {
            for (Map.Entry<String, Tensor> e : p.namedParameters().entrySet()) {
                Tensor h = e.getValue().detach().to(ScalarType.Half).contiguous();
                short[] bits = new short[(int) h.numel()];
                new ShortPointer(h.data_ptr()).capacity(bits.length).get(bits);
                ByteBuffer b = ByteBuffer.allocate(2 * bits.length).order(ByteOrder.LITTLE_ENDIAN);
                for (short x : bits) b.putShort(x);
                long begin = data.size();
                data.writeBytes(b.array());
                if (header.length() > 1) header.append(',');
                header.append('"')
                        .append(e.getKey())
                        .append("\":{\"dtype\":\"F16\",\"shape\":")
                        .append(Arrays.toString(e.getValue().sizes().vec().get())
                                .replace(" ", ""))
                        .append(",\"data_offsets\":[")
                        .append(begin)
                        .append(',')
                        .append(data.size())
                        .append("]}");
            }
        }
        header.append('}');
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        byte[] body = data.toByteArray();
        ByteBuffer out = ByteBuffer.allocate(8 + h.length + body.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(h.length).put(h).put(body);
        Files.write(d.resolve("model.safetensors"), out.array());
    }

    @Test
    void brokenDirectoriesAreClearErrors() throws IOException {
        ModelConfig c = PolicyTestModels.qwen2();
        Path good = dir.resolve("good");
        try (Policy p = PolicyTestModels.random(c, 33)) {
            p.save(good);
        }
        byte[] weights = Files.readAllBytes(good.resolve("model.safetensors"));
        String config = Files.readString(good.resolve("config.json"));

        Path truncated = copy(good, "truncated");
        Files.write(truncated.resolve("model.safetensors"), Arrays.copyOf(weights, weights.length - 10));
        SafeTensorsFormatException t = assertThrows(SafeTensorsFormatException.class, () -> Policy.load(truncated));
        assertTrue(t.getMessage().contains("model.safetensors"), t.getMessage());

        Path corrupt = copy(good, "corrupt");
        byte[] bad = weights.clone();
        bad[9] = '!'; // inside the JSON header
        Files.write(corrupt.resolve("model.safetensors"), bad);
        assertThrows(SafeTensorsFormatException.class, () -> Policy.load(corrupt));

        Path unknown = copy(good, "unknown-architecture");
        Files.writeString(unknown.resolve("config.json"), config.replace("\"qwen2\"", "\"gpt2\""));
        ConfigFormatException u = assertThrows(ConfigFormatException.class, () -> Policy.load(unknown));
        assertTrue(u.getMessage().contains("gpt2"), u.getMessage());

        Path wider = copy(good, "wrong-shape");
        Files.writeString(wider.resolve("config.json"), config.replace("\"hidden_size\": 16", "\"hidden_size\": 32"));
        SafeTensorsFormatException w = assertThrows(SafeTensorsFormatException.class, () -> Policy.load(wider));
        assertTrue(w.getMessage().contains("shape"), w.getMessage());

        Path missing = copy(good, "missing-tensor");
        Files.writeString(
                missing.resolve("config.json"), config.replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3"));
        SafeTensorsFormatException m = assertThrows(SafeTensorsFormatException.class, () -> Policy.load(missing));
        assertTrue(m.getMessage().contains("model.layers.2"), m.getMessage());

        assertThrows(IllegalArgumentException.class, () -> Policy.load(dir.resolve("absent")));
    }

    private Path copy(Path from, String name) throws IOException {
        Path to = dir.resolve(name);
        Files.createDirectories(to);
        for (String f : new String[] {"config.json", "model.safetensors"}) Files.copy(from.resolve(f), to.resolve(f));
        return to;
    }
}
