package io.github.spo4j.model.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import io.github.spo4j.kernels.Bf16;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * One safetensors file, opened read-only and memory-mapped. The header is parsed and the whole layout is
 * checked when the file is opened (as the Hugging Face reader does): the tensors' byte ranges must tile the
 * data section exactly, in any order, with no gap, overlap or trailing byte, and each range must hold
 * {@code numel · dtype.bytes} bytes. Tensor data is mapped on demand, in pieces of at most 1 GiB, so files and
 * tensors larger than 2 GiB work. Thread-safe for concurrent reads; {@link #close()} closes the channel.
 * See {@link SafeTensors} for the format.
 */
@SuppressWarnings("try") // PointerScope is opened for its effect: it frees what is created inside
public final class SafeTensorsFile implements AutoCloseable {
    /** The Hugging Face reader's header limit (100 MB). */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final long DEFAULT_MAP_BYTES = 1L << 30;

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors; // sorted by name
    private final Map<String, String> metadata;
    private final long maxMapBytes;

    private SafeTensorsFile(
            Path path,
            FileChannel channel,
            long dataStart,
            Map<String, TensorInfo> tensors,
            Map<String, String> metadata,
            long maxMapBytes) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
        this.maxMapBytes = maxMapBytes;
    }

    /**
     * Opens and validates one safetensors file.
     *
     * @throws SafeTensorsFormatException when the file breaks the format (named with the byte offset or field)
     */
    public static SafeTensorsFile open(Path file) throws IOException {
        return open(file, DEFAULT_MAP_BYTES);
    }

    /** As {@link #open(Path)}, mapping at most {@code maxMapBytes} at once (tests use tiny pieces). */
    static SafeTensorsFile open(Path file, long maxMapBytes) throws IOException {
        if (file == null) throw new IllegalArgumentException("file must not be null");
        if (maxMapBytes < 8 || maxMapBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("maxMapBytes must be in [8, 2^31), got " + maxMapBytes);
        }
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            SafeTensorsFile f = parse(file, ch, maxMapBytes);
            ch = null;
            return f;
        } finally {
            if (ch != null) ch.close();
        }
    }

    private static SafeTensorsFile parse(Path file, FileChannel ch, long maxMapBytes) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw new SafeTensorsFormatException(
                    file, null, "file has " + size + " bytes, fewer than the 8-byte header length (truncated?)");
        }
        ByteBuffer lenBuf = readFully(ch, 0, 8).order(ByteOrder.LITTLE_ENDIAN);
        long n = lenBuf.getLong(0);
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new SafeTensorsFormatException(
                    file,
                    null,
                    "header length " + Long.toUnsignedString(n) + " (bytes 0..7, little-endian) exceeds the "
                            + MAX_HEADER_BYTES + "-byte limit");
        }
        if (n > size - 8) {
            throw new SafeTensorsFormatException(
                    file,
                    null,
                    "header length " + n + " (bytes 0..7) runs past the end" + " of the " + size
                            + "-byte file (truncated?)");
        }
        ByteBuffer headerBytes = readFully(ch, 8, (int) n);
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(headerBytes)
                    .toString();
        } catch (CharacterCodingException e) {
            throw new SafeTensorsFormatException(file, null, "header (bytes 8.." + (8 + n) + ") is not UTF-8", e);
        }
        if (text.isEmpty() || text.charAt(0) != '{') {
            throw new SafeTensorsFormatException(file, null, "header (byte 8) does not start with '{'");
        }
        JsonObject root = parseJsonObject(file, text);
        long dataStart = 8 + n;
        long dataLen = size - dataStart;

        Map<String, String> metadata = Map.of();
        Map<String, TensorInfo> tensors = new TreeMap<>();
        for (Map.Entry<String, JsonElement> e : root.entrySet()) {
            if (e.getKey().equals(SafeTensors.METADATA_KEY)) {
                metadata = parseMetadata(file, e.getValue());
            } else {
                tensors.put(e.getKey(), parseTensor(file, e.getKey(), e.getValue()));
            }
        }
        checkTiling(file, tensors.values(), dataLen, dataStart);
        return new SafeTensorsFile(file, ch, dataStart, Collections.unmodifiableMap(tensors), metadata, maxMapBytes);
    }

    private static JsonObject parseJsonObject(Path file, String text) throws SafeTensorsFormatException {
        JsonReader reader = new JsonReader(new StringReader(text));
        reader.setStrictness(Strictness.STRICT);
        JsonElement root;
        try {
            root = JsonParser.parseReader(reader);
        } catch (JsonParseException | IllegalStateException e) {
            throw new SafeTensorsFormatException(file, null, "header is not valid JSON: " + JsonErrors.reason(e), e);
        }
        boolean ended;
        try {
            ended = reader.peek() == JsonToken.END_DOCUMENT;
        } catch (IOException | IllegalStateException e) {
            ended = false;
        }
        if (!ended) throw new SafeTensorsFormatException(file, null, "header has content after its JSON object");
        if (!root.isJsonObject()) throw new SafeTensorsFormatException(file, null, "header is not a JSON object");
        return root.getAsJsonObject();
    }

    private static Map<String, String> parseMetadata(Path file, JsonElement v) throws SafeTensorsFormatException {
        if (!v.isJsonObject()) {
            throw new SafeTensorsFormatException(file, null, "\"__metadata__\" must be an object of strings");
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : v.getAsJsonObject().entrySet()) {
            JsonElement x = e.getValue();
            if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isString()) {
                throw new SafeTensorsFormatException(
                        file, null, "\"__metadata__\" entry '" + e.getKey() + "' is not a string");
            }
            m.put(e.getKey(), x.getAsString());
        }
        return Collections.unmodifiableMap(m);
    }

    private static TensorInfo parseTensor(Path file, String name, JsonElement v) throws SafeTensorsFormatException {
        if (!v.isJsonObject()) {
            throw new SafeTensorsFormatException(file, name, "entry is not an object {dtype, shape, data_offsets}");
        }
        JsonObject o = v.getAsJsonObject();
        JsonElement dt = o.get("dtype");
        if (dt == null || !dt.isJsonPrimitive() || !dt.getAsJsonPrimitive().isString()) {
            throw new SafeTensorsFormatException(file, name, "field 'dtype' is missing or not a string");
        }
        SafeTensorsDType dtype = SafeTensorsDType.parse(dt.getAsString());
        if (dtype == null) {
            throw new SafeTensorsFormatException(file, name, "unknown dtype '" + dt.getAsString() + "'");
        }
        long[] shape = longArray(file, name, o, "shape", -1);
        long[] offsets = longArray(file, name, o, "data_offsets", 2);
        long numel = 1;
        try {
            for (long d : shape) numel = Math.multiplyExact(numel, d);
            long bytes = Math.multiplyExact(numel, (long) dtype.bytes);
            if (offsets[1] < offsets[0]) {
                throw new SafeTensorsFormatException(
                        file, name, "data_offsets [" + offsets[0] + ", " + offsets[1] + "] end before they begin");
            }
            if (offsets[1] - offsets[0] != bytes) {
                throw new SafeTensorsFormatException(
                        file,
                        name,
                        "data_offsets [" + offsets[0] + ", " + offsets[1]
                                + "] span " + (offsets[1] - offsets[0]) + " bytes, but " + dtype + " x "
                                + java.util.Arrays.toString(shape) + " needs " + bytes);
            }
        } catch (ArithmeticException e) {
            throw new SafeTensorsFormatException(
                    file, name, "shape " + java.util.Arrays.toString(shape) + " overflows a 64-bit byte count");
        }
        return new TensorInfo(name, dtype, shape, offsets[0], offsets[1]);
    }

    /** A JSON array of non-negative integers (of length {@code length}, or any when -1). */
    private static long[] longArray(Path file, String name, JsonObject o, String field, int length)
            throws SafeTensorsFormatException {
        JsonElement v = o.get(field);
        if (v == null || !v.isJsonArray()) {
            throw new SafeTensorsFormatException(file, name, "field '" + field + "' is missing or not an array");
        }
        JsonArray a = v.getAsJsonArray();
        if (length >= 0 && a.size() != length) {
            throw new SafeTensorsFormatException(
                    file, name, "field '" + field + "' has " + a.size() + " entries, expected " + length);
        }
        long[] r = new long[a.size()];
        for (int i = 0; i < r.length; i++) {
            JsonElement x = a.get(i);
            long value = -1;
            if (x.isJsonPrimitive() && x.getAsJsonPrimitive().isNumber()) {
                try {
                    BigDecimal d = x.getAsJsonPrimitive().getAsBigDecimal();
                    value = d.signum() < 0 ? -1 : d.longValueExact();
                } catch (ArithmeticException | NumberFormatException e) {
                    value = -1;
                }
            }
            if (value < 0) {
                throw new SafeTensorsFormatException(
                        file,
                        name,
                        "field '" + field + "'[" + i + "] = " + x + " is not a non-negative 64-bit integer");
            }
            r[i] = value;
        }
        return r;
    }

    /** The ranges, sorted by (begin, end), must tile [0, dataLen) exactly. */
    private static void checkTiling(Path file, java.util.Collection<TensorInfo> infos, long dataLen, long dataStart)
            throws SafeTensorsFormatException {
        List<TensorInfo> sorted = new ArrayList<>(infos);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin)
                .thenComparingLong(TensorInfo::end)
                .thenComparing(TensorInfo::name));
        for (TensorInfo t : sorted) {
            if (t.end() > dataLen) {
                throw new SafeTensorsFormatException(
                        file,
                        t.name(),
                        "data_offsets [" + t.begin() + ", " + t.end()
                                + ") run past the " + dataLen + " data bytes (file bytes " + (dataStart + t.begin())
                                + ".."
                                + (dataStart + t.end()) + " of " + (dataStart + dataLen) + "; truncated file?)");
            }
        }
        long cursor = 0;
        TensorInfo prev = null;
        for (TensorInfo t : sorted) {
            if (t.begin() < cursor) {
                throw new SafeTensorsFormatException(
                        file,
                        t.name(),
                        "data_offsets [" + t.begin() + ", " + t.end() + ") overlap tensor '" + prev.name() + "' ["
                                + prev.begin() + ", " + prev.end() + ")");
            }
            if (t.begin() > cursor) {
                throw new SafeTensorsFormatException(
                        file,
                        t.name(),
                        "data bytes [" + cursor + ", " + t.begin()
                                + ") before data_offsets [" + t.begin() + ", " + t.end()
                                + ") belong to no tensor (file byte "
                                + (dataStart + cursor) + ")");
            }
            cursor = t.end();
            prev = t;
        }
        if (cursor != dataLen) {
            throw new SafeTensorsFormatException(
                    file,
                    null,
                    "the tensors cover " + cursor + " data bytes but the"
                            + " file has " + dataLen + " (bytes from file offset " + (dataStart + cursor)
                            + " belong to no"
                            + " tensor)");
        }
    }

    private static ByteBuffer readFully(FileChannel ch, long position, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        while (b.hasRemaining()) {
            int r = ch.read(b, position + b.position());
            if (r < 0) throw new IOException("unexpected end of file at byte " + (position + b.position()));
        }
        return b.flip();
    }

    public Path path() {
        return path;
    }

    /** The tensor names, sorted. */
    public Set<String> names() {
        return tensors.keySet();
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The {@code __metadata__} string map (empty when the header has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The header entry of {@code name}. */
    public TensorInfo info(String name) {
        if (name == null) throw new IllegalArgumentException("name must not be null");
        TensorInfo t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException("no tensor '" + name + "' in " + path);
        return t;
    }

    /** Byte offset of the data section in the file: 8 + header length. */
    public long dataStart() {
        return dataStart;
    }

    /**
     * The tensor's values converted to fp32 (F32 as is, BF16 and F16 exactly), row-major.
     *
     * @throws IllegalArgumentException when the tensor is not F32 / BF16 / F16 or has 2^31 or more elements
     */
    public float[] readFloats(String name) throws IOException {
        TensorInfo t = floatInfo(name);
        long n = t.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(
                    "tensor '" + name + "' has " + n + " elements, too many for a" + " float[]: use readTensor");
        }
        float[] out = new float[(int) n];
        decode(t, (elem, count) -> FloatBuffer.wrap(out, (int) elem, count));
        return out;
    }

    /**
     * The tensor as a new fp32 CPU libtorch tensor of its shape, which owns its memory. The caller's innermost
     * {@link PointerScope} (or, without one, the garbage collector) frees it.
     *
     * @throws IllegalArgumentException when the tensor is not F32 / BF16 / F16
     */
    public Tensor readTensor(String name) throws IOException {
        TensorInfo t = floatInfo(name);
        PointerScope outer = PointerScope.getInnerScope();
        Tensor result;
        try (PointerScope scope = new PointerScope()) {
            result = torch.empty(t.shape(), new TensorOptions(ScalarType.Float), null);
            if (t.numel() > 0) {
                BytePointer base = new BytePointer(result.data_ptr());
                base.capacity(t.numel() * 4);
                decode(t, (elem, count) -> {
                    BytePointer p = new BytePointer(base);
                    p.position(elem * 4).limit(elem * 4 + (long) count * 4);
                    return p.asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer();
                });
            }
            result.retainReference(); // outlives this scope
        }
        if (outer != null) {
            outer.attach(result);
            result.releaseReference();
        }
        return result;
    }

    /**
     * The tensor's values as longs (I64 as is, I32 sign-extended), row-major.
     *
     * @throws IllegalArgumentException when the tensor is not I64 / I32 or has 2^31 or more elements
     */
    public long[] readLongs(String name) throws IOException {
        TensorInfo t = info(name);
        if (!t.dtype().readableAsLong()) {
            throw new IllegalArgumentException(
                    "tensor '" + name + "' in " + path + " is " + t.dtype() + "; readLongs reads I64 and I32");
        }
        long n = t.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + n + " elements, too many for a long[]");
        }
        long[] out = new long[(int) n];
        forEachPiece(t, (src, elem, count) -> {
            if (t.dtype() == SafeTensorsDType.I64) {
                src.asLongBuffer().get(out, (int) elem, count);
            } else {
                for (int i = 0; i < count; i++) out[(int) elem + i] = src.getInt(4 * i);
            }
        });
        return out;
    }

    private TensorInfo floatInfo(String name) {
        TensorInfo t = info(name);
        if (!t.dtype().readableAsFloat()) {
            throw new IllegalArgumentException("tensor '" + name + "' in " + path + " is " + t.dtype()
                    + "; only F32, BF16 and F16 convert to fp32");
        }
        return t;
    }

    private interface Destination {
        /** A buffer for elements [elem, elem + count) of the output. */
        FloatBuffer at(long elem, int count);
    }

    private interface PieceReader {
        /** src holds elements [elem, elem + count), little-endian, positioned at 0. */
        void accept(ByteBuffer src, long elem, int count) throws IOException;
    }

    private void decode(TensorInfo t, Destination dst) throws IOException {
        SafeTensorsDType dtype = t.dtype();
        forEachPiece(t, (src, elem, count) -> {
            FloatBuffer out = dst.at(elem, count);
            switch (dtype) {
                case F32 -> out.put(src.asFloatBuffer());
                case BF16 -> {
                    for (int i = 0; i < count; i++) out.put(Bf16.toFloat(src.getShort(2 * i)));
                }
                case F16 -> {
                    for (int i = 0; i < count; i++) out.put(Fp16.toFloat(src.getShort(2 * i)));
                }
                default -> throw new IllegalStateException(dtype.name());
            }
        });
    }

    /**
     * Maps the tensor's bytes in pieces of whole elements; a piece and its fp32 output each span at most
     * maxMapBytes (NIO buffers are int-indexed).
     */
    private void forEachPiece(TensorInfo t, PieceReader reader) throws IOException {
        int size = t.dtype().bytes;
        long perPiece = maxMapBytes / Math.max(size, 4);
        long n = t.numel();
        for (long elem = 0; elem < n; elem += perPiece) {
            int count = (int) Math.min(perPiece, n - elem);
            ByteBuffer src = channel.map(
                            FileChannel.MapMode.READ_ONLY, dataStart + t.begin() + elem * size, (long) count * size)
                    .order(ByteOrder.LITTLE_ENDIAN);
            reader.accept(src, elem, count);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return "SafeTensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }
}
