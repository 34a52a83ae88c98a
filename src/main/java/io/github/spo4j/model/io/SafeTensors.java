package io.github.spo4j.model.io;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.spo4j.kernels.Bf16;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The safetensors format (Hugging Face), read and written.
 *
 * <pre>
 *   bytes 0..7      N, unsigned 64-bit little-endian: the header length
 *   bytes 8..8+N    UTF-8 JSON object (padded with trailing spaces):
 *                     {"__metadata__": {string: string},                        (optional)
 *                      name: {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}, ...}
 *   bytes 8+N..     the data section; each tensor is row-major little-endian in [begin, end) of it,
 *                   end − begin = numel · dtype bytes, and the ranges tile the section exactly
 * </pre>
 *
 * <p>{@link #open} reads one file or a sharded Hugging Face directory (a {@code model.safetensors.index.json}
 * whose {@code weight_map} names each tensor's shard, or else every {@code *.safetensors} file in it) and
 * converts F32 / BF16 / F16 to fp32 on load. {@link #write} writes F32 or BF16 files the way the Hugging Face
 * writer does (compact JSON, {@code __metadata__} first, header padded with spaces to a multiple of 8 bytes),
 * with tensors in name order, atomically.
 */
@SuppressWarnings("try") // PointerScope is opened for its effect: it frees what is created inside
public final class SafeTensors {
    /** The header key that holds the string metadata. */
    public static final String METADATA_KEY = "__metadata__";
    /** The index file of a sharded directory. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();
    private static final int WRITE_BUFFER = 1 << 20;
    /** Floats per NIO view of native memory (views are int-indexed). */
    private static final long MAX_VIEW_FLOATS = 1L << 28;

    private SafeTensors() {}

    /**
     * Opens a safetensors file, or a directory of shards.
     *
     * @throws SafeTensorsFormatException when a file, the index or the set of shards is invalid
     */
    public static SafeTensorsReader open(Path fileOrDirectory) throws IOException {
        return SafeTensorsReader.open(fileOrDirectory);
    }

    /**
     * Writes heap tensors to {@code file} atomically.
     *
     * @param tensors  name → tensor; names non-empty and not {@value #METADATA_KEY}
     * @param metadata the {@code __metadata__} map, or null / empty for none
     * @param dtype    {@link SafeTensorsDType#F32} (bit exact) or {@link SafeTensorsDType#BF16} (rounded to
     *                 nearest even; NaN stays NaN)
     */
    public static void write(
            Path file, Map<String, FloatTensor> tensors, Map<String, String> metadata, SafeTensorsDType dtype)
            throws IOException {
        checkArgs(file, tensors, metadata, dtype);
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, FloatTensor> e : new TreeMap<>(tensors).entrySet()) {
            FloatTensor t = e.getValue();
            if (t == null) throw new IllegalArgumentException("tensor '" + e.getKey() + "' must not be null");
            entries.add(new Entry(e.getKey(), t.shape(), sink -> sink.accept(FloatBuffer.wrap(t.data()))));
        }
        writeEntries(file, entries, metadata, dtype);
    }

    /**
     * Writes libtorch tensors (any floating dtype, any device, any strides) to {@code file} atomically; each is
     * converted to fp32 on the CPU first. Arguments as in {@link #write}.
     */
    public static void writeTensors(
            Path file, Map<String, Tensor> tensors, Map<String, String> metadata, SafeTensorsDType dtype)
            throws IOException {
        checkArgs(file, tensors, metadata, dtype);
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : new TreeMap<>(tensors).entrySet()) {
            Tensor t = e.getValue();
            if (t == null || !t.defined()) {
                throw new IllegalArgumentException("tensor '" + e.getKey() + "' must be a defined tensor");
            }
            entries.add(new Entry(e.getKey(), t.shape(), sink -> {
                Tensor c = t.detach().to(ScalarType.Float).cpu().contiguous();
                long n = c.numel();
                BytePointer base = new BytePointer(c.data_ptr());
                base.capacity(n * 4);
                for (long elem = 0; elem < n; elem += MAX_VIEW_FLOATS) {
                    long count = Math.min(MAX_VIEW_FLOATS, n - elem);
                    BytePointer p = new BytePointer(base);
                    p.position(elem * 4).limit((elem + count) * 4);
                    sink.accept(p.asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer());
                }
            }));
        }
        writeEntries(file, entries, metadata, dtype);
    }

    private static void checkArgs(
            Path file, Map<String, ?> tensors, Map<String, String> metadata, SafeTensorsDType dtype) {
        if (file == null) throw new IllegalArgumentException("file must not be null");
        if (tensors == null) throw new IllegalArgumentException("tensors must not be null");
        if (dtype != SafeTensorsDType.F32 && dtype != SafeTensorsDType.BF16) {
            throw new IllegalArgumentException("dtype must be F32 or BF16, got " + dtype);
        }
        for (String name : tensors.keySet()) {
            if (name == null || name.isEmpty()) throw new IllegalArgumentException("tensor names must be non-empty");
            if (name.equals(METADATA_KEY)) {
                throw new IllegalArgumentException("'" + METADATA_KEY + "' is reserved and cannot name a tensor");
            }
        }
        if (metadata != null) {
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new IllegalArgumentException("metadata keys and values must not be null");
                }
            }
        }
    }

    private interface Values {
        /** Hands the tensor's fp32 values, row-major, to {@code sink} in one or more consecutive buffers. */
        void feed(Sink sink) throws IOException;
    }

    private interface Sink {
        void accept(FloatBuffer values) throws IOException;
    }

    private record Entry(String name, long[] shape, Values values) {
        long numel() {
            long n = 1;
            for (long d : shape) n = Math.multiplyExact(n, d);
            return n;
        }
    }

    /** The header bytes, padded with spaces to a multiple of 8 (the data section then starts 8-aligned). */
    static byte[] header(List<Entry> entries, Map<String, String> metadata, SafeTensorsDType dtype) {
        JsonObject root = new JsonObject();
        if (metadata != null && !metadata.isEmpty()) {
            JsonObject m = new JsonObject();
            new TreeMap<>(metadata).forEach(m::addProperty);
            root.add(METADATA_KEY, m);
        }
        long offset = 0;
        for (Entry e : entries) {
            JsonObject t = new JsonObject();
            t.addProperty("dtype", dtype.name());
            JsonArray shape = new JsonArray();
            for (long d : e.shape()) shape.add(d);
            t.add("shape", shape);
            long end = offset + e.numel() * dtype.bytes;
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(end);
            t.add("data_offsets", offsets);
            root.add(e.name(), t);
            offset = end;
        }
        byte[] json = GSON.toJson(root).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) out[i] = ' ';
        return out;
    }

    private static void writeEntries(
            Path file, List<Entry> entries, Map<String, String> metadata, SafeTensorsDType dtype) throws IOException {
        byte[] header = header(entries, metadata, dtype);
        AtomicFiles.write(file, ch -> {
            ByteBuffer buf = ByteBuffer.allocate(Math.max(WRITE_BUFFER, 8 + header.length))
                    .order(ByteOrder.LITTLE_ENDIAN);
            buf.putLong(header.length).put(header);
            for (Entry e : entries) {
                long[] written = {0};
                // One scope per tensor: a libtorch tensor's fp32 CPU copy is freed before the next one is made.
                try (PointerScope scope = new PointerScope()) {
                    e.values().feed(src -> {
                        written[0] += src.remaining();
                        while (src.hasRemaining()) {
                            if (buf.remaining() < 4) drain(ch, buf);
                            float v = src.get();
                            if (dtype == SafeTensorsDType.F32) buf.putFloat(v);
                            else buf.putShort(Bf16.fromFloat(v));
                        }
                    });
                }
                if (written[0] != e.numel()) {
                    throw new IllegalStateException(
                            "tensor '" + e.name() + "' gave " + written[0] + " values, its shape holds " + e.numel());
                }
            }
            drain(ch, buf);
        });
    }

    private static void drain(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) ch.write(buf);
        buf.clear();
    }
}
