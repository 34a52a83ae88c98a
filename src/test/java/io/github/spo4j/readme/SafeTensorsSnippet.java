package io.github.spo4j.readme;

import io.github.spo4j.model.ModelConfig;
import io.github.spo4j.model.io.FloatTensor;
import io.github.spo4j.model.io.SafeTensors;
import io.github.spo4j.model.io.SafeTensorsDType;
import io.github.spo4j.model.io.SafeTensorsReader;
import io.github.spo4j.model.io.TensorInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/** README, "Model files": reading a model directory, writing a file, reading config.json. */
final class SafeTensorsSnippet {
    private SafeTensorsSnippet() {}

    /** Reads {@code modelDir}, writes {@code out/ckpt.safetensors}; returns the directory's config. */
    static ModelConfig run(Path modelDir, Path out) throws IOException {
        float[] data = {1, 2, 3, 4, 5, 6};
        // README begin
        try (SafeTensorsReader r = SafeTensors.open(modelDir)) { // one file, or a sharded directory
            TensorInfo info = r.info("model.embed_tokens.weight"); // dtype, shape, byte range
            float[] w = r.readFloats("model.norm.weight"); // F32 / BF16 / F16 -> fp32
            try (PointerScope scope = new PointerScope()) {
                Tensor emb = r.readTensor("model.embed_tokens.weight"); // fp32 CPU tensor owning its memory
            }
        }
        SafeTensors.write(
                out.resolve("ckpt.safetensors"),
                Map.of("w", new FloatTensor(data, 2, 3)),
                Map.of("format", "pt"),
                SafeTensorsDType.BF16); // or writeTensors: Map<String, Tensor>
        ModelConfig config = ModelConfig.fromJson(modelDir.resolve("config.json"));
        // README end
        return config;
    }
}
