package io.github.spo4j.model.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.bytedeco.pytorch.Tensor;

/**
 * The tensors of one safetensors file or of a sharded directory, by name. A directory with a
 * {@value SafeTensors#INDEX_FILE} must match its {@code weight_map} exactly: every listed tensor is in the named
 * shard and every shard tensor is listed. A directory without one uses every {@code *.safetensors} file in
 * it, and a name may appear in only one of them. {@link #close()} closes every shard.
 */
public final class SafeTensorsReader implements AutoCloseable {
    private final List<SafeTensorsFile> files;
    private final Map<String, SafeTensorsFile> byName; // sorted

    private SafeTensorsReader(List<SafeTensorsFile> files, Map<String, SafeTensorsFile> byName) {
        this.files = List.copyOf(files);
        this.byName = Collections.unmodifiableMap(byName);
    }

    /** See {@link SafeTensors#open}. */
    static SafeTensorsReader open(Path path) throws IOException {
        if (path == null) throw new IllegalArgumentException("path must not be null");
        if (!Files.isDirectory(path)) {
            SafeTensorsFile f = SafeTensorsFile.open(path);
            Map<String, SafeTensorsFile> byName = new TreeMap<>();
            for (String n : f.names()) byName.put(n, f);
            return new SafeTensorsReader(List.of(f), byName);
        }
        Path index = path.resolve(SafeTensors.INDEX_FILE);
        List<SafeTensorsFile> opened = new ArrayList<>();
        try {
            SafeTensorsReader r = Files.exists(index) ? openIndexed(path, index, opened) : openAll(path, opened);
            opened.clear();
            return r;
        } finally {
            for (SafeTensorsFile f : opened) closeQuietly(f);
        }
    }

    private static SafeTensorsReader openIndexed(Path dir, Path index, List<SafeTensorsFile> opened)
            throws IOException {
        JsonObject root;
        try {
            JsonElement e = JsonParser.parseString(Files.readString(index, StandardCharsets.UTF_8));
            if (!e.isJsonObject()) throw new SafeTensorsFormatException(index, null, "is not a JSON object");
            root = e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new SafeTensorsFormatException(index, null, "is not valid JSON: " + JsonErrors.reason(e), e);
        }
        JsonElement wm = root.get("weight_map");
        if (wm == null || !wm.isJsonObject()) {
            throw new SafeTensorsFormatException(index, null, "field 'weight_map' is missing or not an object");
        }
        Map<String, SafeTensorsFile> shards = new LinkedHashMap<>();
        Map<String, SafeTensorsFile> byName = new TreeMap<>();
        for (Map.Entry<String, JsonElement> e : wm.getAsJsonObject().entrySet()) {
            String name = e.getKey();
            JsonElement v = e.getValue();
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
                throw new SafeTensorsFormatException(index, name, "weight_map value is not a file name");
            }
            String shardName = v.getAsString();
            Path shardPath = dir.resolve(shardName).normalize();
            if (shardName.isEmpty() || !dir.normalize().equals(shardPath.getParent())) {
                throw new SafeTensorsFormatException(
                        index, name, "weight_map names '" + shardName + "', which is not a file directly in " + dir);
            }
            SafeTensorsFile shard = shards.get(shardName);
            if (shard == null) {
                if (!Files.isRegularFile(shardPath)) {
                    throw new SafeTensorsFormatException(index, name, "shard '" + shardName + "' does not exist");
                }
                shard = SafeTensorsFile.open(shardPath);
                opened.add(shard);
                shards.put(shardName, shard);
            }
            if (!shard.contains(name)) {
                throw new SafeTensorsFormatException(
                        index, name, "weight_map puts it in '" + shardName + "', which has no such tensor");
            }
            byName.put(name, shard);
        }
        for (SafeTensorsFile shard : shards.values()) {
            for (String n : shard.names()) {
                if (byName.get(n) != shard) {
                    throw new SafeTensorsFormatException(
                            shard.path(), n, "is not listed for this shard in the" + " weight_map of " + index);
                }
            }
        }
        return new SafeTensorsReader(new ArrayList<>(shards.values()), byName);
    }

    private static SafeTensorsReader openAll(Path dir, List<SafeTensorsFile> opened) throws IOException {
        List<Path> paths = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.safetensors")) {
            for (Path p : ds) if (Files.isRegularFile(p)) paths.add(p);
        }
        if (paths.isEmpty()) {
            throw new SafeTensorsFormatException(
                    dir, null, "holds neither " + SafeTensors.INDEX_FILE + " nor any *.safetensors file");
        }
        Collections.sort(paths);
        Map<String, SafeTensorsFile> byName = new TreeMap<>();
        for (Path p : paths) {
            SafeTensorsFile f = SafeTensorsFile.open(p);
            opened.add(f);
            for (String n : f.names()) {
                SafeTensorsFile prev = byName.putIfAbsent(n, f);
                if (prev != null) {
                    throw new SafeTensorsFormatException(p, n, "is also in " + prev.path());
                }
            }
        }
        return new SafeTensorsReader(opened, byName);
    }

    private static void closeQuietly(SafeTensorsFile f) {
        try {
            f.close();
        } catch (IOException ignored) {
            // Already failing: the first error is the one reported.
        }
    }

    /** The opened files (one, or the shards in index / name order). */
    public List<SafeTensorsFile> files() {
        return files;
    }

    /** Every tensor name, sorted. */
    public Set<String> names() {
        return byName.keySet();
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** The file that holds {@code name}. */
    public SafeTensorsFile fileOf(String name) {
        if (name == null) throw new IllegalArgumentException("name must not be null");
        SafeTensorsFile f = byName.get(name);
        if (f == null) throw new IllegalArgumentException("no tensor '" + name + "' in " + describe());
        return f;
    }

    public TensorInfo info(String name) {
        return fileOf(name).info(name);
    }

    /** See {@link SafeTensorsFile#readFloats}. */
    public float[] readFloats(String name) throws IOException {
        return fileOf(name).readFloats(name);
    }

    /** See {@link SafeTensorsFile#readTensor}. */
    public Tensor readTensor(String name) throws IOException {
        return fileOf(name).readTensor(name);
    }

    /** See {@link SafeTensorsFile#readLongs}. */
    public long[] readLongs(String name) throws IOException {
        return fileOf(name).readLongs(name);
    }

    private String describe() {
        return files.size() == 1
                ? files.get(0).path().toString()
                : files.size() + " shards in " + files.get(0).path().getParent();
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (SafeTensorsFile f : files) {
            try {
                f.close();
            } catch (IOException e) {
                if (first == null) first = e;
            }
        }
        if (first != null) throw first;
    }
}
