package io.github.spo4j.model.io;

import static io.github.spo4j.model.io.SafeTensorsTestFiles.entry;
import static io.github.spo4j.model.io.SafeTensorsTestFiles.floats;
import static io.github.spo4j.model.io.SafeTensorsTestFiles.raw;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every broken file is a {@link SafeTensorsFormatException} naming the file, the tensor and the problem. */
class SafeTensorsCorruptionTest {
    @TempDir
    Path dir;

    private SafeTensorsFormatException broken(Path p, String tensor, String... phrases) {
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> {
            try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
                f.names();
            }
        });
        assertEquals(p, e.file());
        assertEquals(tensor, e.tensor(), e.getMessage());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        for (String phrase : phrases) assertTrue(e.getMessage().contains(phrase), e.getMessage());
        return e;
    }

    private Path file(String name, String header, byte[] data) throws IOException {
        return raw(dir.resolve(name), header, data);
    }

    @Test
    void fileShorterThanTheLengthField() throws IOException {
        Path p = Files.write(dir.resolve("short.safetensors"), new byte[] {1, 0, 0});
        broken(p, null, "3 bytes", "truncated");
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + 10)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(1000)
                .put(new byte[10]);
        Path p = Files.write(dir.resolve("long.safetensors"), b.array());
        broken(p, null, "header length 1000", "18-byte file");
        ByteBuffer huge = ByteBuffer.allocate(16)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(-1L)
                .putLong(0);
        broken(Files.write(dir.resolve("huge.safetensors"), huge.array()), null, "18446744073709551615", "limit");
    }

    @Test
    void badJson() throws IOException {
        broken(file("json.safetensors", "{\"a\": {\"dtype\": ", new byte[0]), null, "not valid JSON");
        broken(file("lenient.safetensors", "{a:1}", new byte[0]), null, "not valid JSON");
        broken(file("trailing.safetensors", "{} {}", new byte[0]), null, "after its JSON object");
        broken(file("array.safetensors", "[]", new byte[0]), null, "start with '{'");
        byte[] latin1 = {'{', '"', (byte) 0xe9, '"', ':', '1', '}'};
        ByteBuffer b = ByteBuffer.allocate(8 + latin1.length)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(latin1.length)
                .put(latin1);
        broken(Files.write(dir.resolve("utf8.safetensors"), b.array()), null, "not UTF-8");
    }

    @Test
    void unknownDtype() throws IOException {
        broken(
                file("dtype.safetensors", "{" + entry("w", "F33", "[1]", 0, 4) + "}", floats(1f)),
                "w",
                "unknown dtype 'F33'");
    }

    @Test
    void malformedEntries() throws IOException {
        broken(
                file("shape.safetensors", "{" + entry("w", "F32", "[-1]", 0, 4) + "}", floats(1f)),
                "w",
                "'shape'[0] = -1");
        broken(
                file("frac.safetensors", "{" + entry("w", "F32", "[1.5]", 0, 4) + "}", floats(1f)),
                "w",
                "not a non-negative 64-bit integer");
        broken(
                file("noofs.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", floats(1f)),
                "w",
                "'data_offsets' is missing");
        broken(
                file(
                        "threeofs.safetensors",
                        "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}",
                        floats(1f)),
                "w",
                "3 entries, expected 2");
        broken(
                file(
                        "meta.safetensors",
                        "{\"__metadata__\":{\"n\":1}," + entry("w", "F32", "[1]", 0, 4) + "}",
                        floats(1f)),
                null,
                "'n' is not a string");
        broken(
                file("backwards.safetensors", "{" + entry("w", "F32", "[0]", 4, 0) + "}", floats(1f)),
                "w",
                "end before they begin");
    }

    @Test
    void offsetsNotMatchingDtypeTimesShape() throws IOException {
        broken(
                file("size.safetensors", "{" + entry("w", "F32", "[2,2]", 0, 12) + "}", floats(1, 2, 3)),
                "w",
                "span 12 bytes",
                "needs 16");
        broken(
                file("bf16size.safetensors", "{" + entry("w", "BF16", "[4]", 0, 16) + "}", floats(1, 2, 3, 4)),
                "w",
                "needs 8");
    }

    @Test
    void overlappingTensors() throws IOException {
        String h = "{" + entry("a", "F32", "[4]", 0, 16) + "," + entry("b", "F32", "[2]", 8, 16) + "}";
        broken(file("overlap.safetensors", h, floats(1, 2, 3, 4)), "b", "overlap tensor 'a' [0, 16)");
    }

    @Test
    void gapBetweenTensors() throws IOException {
        String h = "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 12, 20) + "}";
        broken(file("gap.safetensors", h, floats(1, 2, 3, 4, 5)), "b", "data bytes [8, 12)", "belong to no tensor");
    }

    @Test
    void offsetsOutOfRangeOrTruncatedData() throws IOException {
        String h = "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[4]", 8, 24) + "}";
        broken(file("range.safetensors", h, floats(1, 2, 3, 4)), "b", "run past the 16 data bytes", "truncated");

        Path p = dir.resolve("cut.safetensors");
        SafeTensors.write(p, Map.of("w", new FloatTensor(new float[] {1, 2, 3, 4}, 4)), null, SafeTensorsDType.F32);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 1);
        }
        broken(p, "w", "run past the 15 data bytes", "truncated");
    }

    @Test
    void trailingBytesAfterTheLastTensor() throws IOException {
        broken(
                file("extra.safetensors", "{" + entry("w", "F32", "[1]", 0, 4) + "}", floats(1, 2)),
                null,
                "cover 4 data bytes but the file has 8");
    }

    @Test
    void missingTensorNamesFileAndTensor() throws IOException {
        Path p = file("ok.safetensors", "{" + entry("w", "F32", "[1]", 0, 4) + "}", floats(1));
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.info("v"));
            assertTrue(e.getMessage().contains("'v'") && e.getMessage().contains(p.toString()), e.getMessage());
        }
    }
}
