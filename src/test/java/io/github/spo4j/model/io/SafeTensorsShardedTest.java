package io.github.spo4j.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsShardedTest {
    @TempDir
    Path dir;

    private static final String SHARD1 = "model-00001-of-00002.safetensors";
    private static final String SHARD2 = "model-00002-of-00002.safetensors";

    @BeforeEach
    void shards() throws IOException {
        SafeTensors.write(
                dir.resolve(SHARD1),
                Map.of(
                        "embed",
                        new FloatTensor(new float[] {1, 2, 3, 4}, 2, 2),
                        "norm",
                        new FloatTensor(new float[] {5}, 1)),
                null,
                SafeTensorsDType.F32);
        SafeTensors.write(
                dir.resolve(SHARD2),
                Map.of("head", new FloatTensor(new float[] {6, 7}, 2)),
                null,
                SafeTensorsDType.BF16);
    }

    private void index(String weightMap) throws IOException {
        Files.writeString(
                dir.resolve(SafeTensors.INDEX_FILE),
                "{\"metadata\": {\"total_size\": 24}, \"weight_map\": {" + weightMap + "}}");
    }

    private static String map(String name, String shard) {
        return "\"" + name + "\": \"" + shard + "\"";
    }

    @Test
    void indexedDirectory() throws IOException {
        index(map("embed", SHARD1) + "," + map("head", SHARD2) + "," + map("norm", SHARD1));
        try (SafeTensorsReader r = SafeTensors.open(dir)) {
            assertEquals(List.of("embed", "head", "norm"), List.copyOf(r.names()));
            assertEquals(2, r.files().size());
            assertEquals(dir.resolve(SHARD2), r.fileOf("head").path());
            assertArrayEquals(new float[] {1, 2, 3, 4}, r.readFloats("embed"));
            assertArrayEquals(new float[] {6, 7}, r.readFloats("head"));
            assertEquals(SafeTensorsDType.BF16, r.info("head").dtype());
            assertArrayEquals(new float[] {5}, r.readFloats("norm"));
        }
    }

    @Test
    void directoryWithoutIndexUsesEverySafetensorsFile() throws IOException {
        Files.writeString(dir.resolve("README.md"), "not a shard");
        try (SafeTensorsReader r = SafeTensors.open(dir)) {
            assertEquals(List.of("embed", "head", "norm"), List.copyOf(r.names()));
            assertArrayEquals(new float[] {6, 7}, r.readFloats("head"));
        }
    }

    @Test
    void singleFileThroughOpen() throws IOException {
        try (SafeTensorsReader r = SafeTensors.open(dir.resolve(SHARD2))) {
            assertEquals(List.of("head"), List.copyOf(r.names()));
        }
    }

    @Test
    void duplicateNameAcrossShardsWithoutIndex() throws IOException {
        SafeTensors.write(
                dir.resolve("extra.safetensors"),
                Map.of("head", new FloatTensor(new float[] {0}, 1)),
                null,
                SafeTensorsDType.F32);
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.open(dir));
        assertEquals("head", e.tensor());
        assertTrue(e.getMessage().contains("is also in"), e.getMessage());
    }

    @Test
    void indexNamingAMissingTensor() throws IOException {
        index(map("embed", SHARD1) + "," + map("head", SHARD1) + "," + map("norm", SHARD1));
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.open(dir));
        assertEquals("head", e.tensor());
        assertTrue(e.getMessage().contains("has no such tensor"), e.getMessage());
    }

    @Test
    void shardTensorMissingFromTheIndex() throws IOException {
        index(map("embed", SHARD1) + "," + map("head", SHARD2));
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.open(dir));
        assertEquals("norm", e.tensor());
        assertEquals(dir.resolve(SHARD1), e.file());
    }

    @Test
    void indexPointingOutsideTheDirectoryOrAtNothing() throws IOException {
        index(map("embed", "../" + SHARD1));
        assertTrue(assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.open(dir))
                .getMessage()
                .contains("not a file directly in"));
        index(map("embed", "model-00009.safetensors"));
        assertTrue(assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.open(dir))
                .getMessage()
                .contains("does not exist"));
        Files.writeString(dir.resolve(SafeTensors.INDEX_FILE), "{\"metadata\": {}}");
        assertTrue(assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.open(dir))
                .getMessage()
                .contains("'weight_map' is missing"));
    }

    @Test
    void emptyDirectory(@TempDir Path empty) {
        assertTrue(assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.open(empty))
                .getMessage()
                .contains("*.safetensors"));
    }
}
