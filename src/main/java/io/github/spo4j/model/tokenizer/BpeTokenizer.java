package io.github.spo4j.model.tokenizer;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.github.spo4j.model.io.JsonErrors;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte-level BPE that reproduces a Hugging Face {@code tokenizer.json} of the GPT-2 / Llama-3 / Qwen2 family
 * (encoding without added special tokens, i.e. {@code add_special_tokens=False}).
 *
 * <p>Encoding, as the Hugging Face pipeline does it:
 * <ol>
 *   <li>added tokens with {@code normalized: false} are cut out of the raw text (leftmost, then longest match) and
 *       map to their ids, never split;</li>
 *   <li>each remaining piece is normalized (none or NFC), and added tokens with {@code normalized: true} are cut out
 *       of it the same way;</li>
 *   <li>the pre-tokenizer splits each piece: {@code Split} (a regex or literal, with its split behaviour) and
 *       {@code ByteLevel} (optional prefix space, optional GPT-2 regex, then each UTF-8 byte becomes one character of
 *       GPT-2's byte alphabet), in sequence, each step applied to every piece of the previous one;</li>
 *   <li>each pre-token starts as one symbol per character and, while some adjacent pair is in {@code merges},
 *       the pair of lowest rank (its index in {@code merges}; leftmost on ties) is merged. With
 *       {@code ignore_merges} a pre-token that is itself in the vocabulary is one token.</li>
 * </ol>
 * Decoding maps each token's characters back to bytes and decodes UTF-8 with U+FFFD for ill-formed sequences.
 *
 * <p>Anything else in the file that would change the ids (another model type, normalizer, pre-tokenizer, decoder,
 * BPE dropout, byte fallback, subword prefixes, truncation, added tokens with lstrip / rstrip / single_word) is
 * rejected when loading. The post-processor is ignored: it only adds special tokens, which {@link #encode} never
 * does. Instances are immutable and thread-safe.
 */
public final class BpeTokenizer implements Tokenizer {

    /** GPT-2's pre-tokenization regex, used by a ByteLevel pre-tokenizer with {@code use_regex: true}. */
    static final String GPT2_PATTERN =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    private static final Pattern GPT2_REGEX = OnigRegex.compile(GPT2_PATTERN);
    /** Pre-tokens cached per instance; past this many the cache stops growing (a cache, not a result). */
    private static final int CACHE_CAPACITY = 1 << 16;
    /** Ids index an array: a bound far above real vocabularies (~256k) keeps a corrupt id from exhausting memory. */
    static final int MAX_VOCAB = 1 << 24;

    private record AddedToken(int id, String content, boolean special, boolean normalized) {}

    enum Behavior {
        REMOVED,
        ISOLATED,
        MERGED_WITH_PREVIOUS,
        MERGED_WITH_NEXT,
        CONTIGUOUS
    }

    /** One pre-tokenizer step: a Split (regex, behavior) or a ByteLevel (regex null when use_regex is false). */
    private record Step(boolean byteLevel, Pattern regex, Behavior behavior, boolean addPrefixSpace) {}

    private final String[] idToToken;
    private final Map<String, Integer> tokenToId;
    /** (left id << 32 | right id) to {rank, merged id}. */
    private final Map<Long, int[]> merges;

    private final List<AddedToken> rawAdded;
    private final List<AddedToken> normalizedAdded;
    private final boolean[] special;
    private final boolean nfc;
    private final List<Step> steps;
    private final boolean ignoreMerges;
    private final int unkId;
    private final OptionalInt bos;
    private final int[] eos;
    private final OptionalInt pad;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();
    /** The files this tokenizer was read from, by file name (set once by {@link #fromJson}). */
    private Map<String, byte[]> sourceFiles = Map.of();

    private BpeTokenizer(
            String[] idToToken,
            Map<String, Integer> tokenToId,
            Map<Long, int[]> merges,
            List<AddedToken> added,
            boolean nfc,
            List<Step> steps,
            boolean ignoreMerges,
            int unkId,
            OptionalInt bos,
            int[] eos,
            OptionalInt pad) {
        this.idToToken = idToToken;
        this.tokenToId = tokenToId;
        this.merges = merges;
        this.rawAdded = longestFirst(added.stream().filter(a -> !a.normalized()).toList());
        this.normalizedAdded =
                longestFirst(added.stream().filter(AddedToken::normalized).toList());
        this.nfc = nfc;
        this.steps = steps;
        this.ignoreMerges = ignoreMerges;
        this.unkId = unkId;
        this.bos = bos;
        this.eos = eos;
        this.pad = pad;
        this.special = new boolean[idToToken.length];
        for (AddedToken a : added) if (a.special()) special[a.id()] = true;
        bos.ifPresent(id -> special[id] = true);
        for (int id : eos) special[id] = true;
        pad.ifPresent(id -> special[id] = true);
    }

    private static List<AddedToken> longestFirst(List<AddedToken> tokens) {
        List<AddedToken> sorted = new ArrayList<>(tokens);
        sorted.sort((a, b) -> Integer.compare(b.content().length(), a.content().length()));
        return List.copyOf(sorted);
    }

    /**
     * Reads a Hugging Face {@code tokenizer.json}. BOS / EOS / PAD come from {@code bos_token}, {@code eos_token} and
     * {@code pad_token} of a {@code tokenizer_config.json} beside it, when there is one (else none; see
     * {@link #withSpecialTokens}).
     *
     * @throws TokenizerFormatException naming the file and field that is malformed or unsupported
     * @throws IOException when the file cannot be read
     */
    public static BpeTokenizer fromJson(Path tokenizerJson) throws IOException {
        TokenizerArguments.notNull(tokenizerJson, "tokenizerJson");
        JsonObject root = readObject(tokenizerJson);
        BpeTokenizer t = new Loader(tokenizerJson, root).load();
        Path config = tokenizerJson.toAbsolutePath().resolveSibling("tokenizer_config.json");
        if (Files.isRegularFile(config)) {
            JsonObject c = readObject(config);
            String b = specialName(config, c, "bos_token");
            String e = specialName(config, c, "eos_token");
            String p = specialName(config, c, "pad_token");
            try {
                t = t.withSpecialTokens(b, e == null ? List.of() : List.of(e), p);
            } catch (IllegalArgumentException ex) {
                throw new TokenizerFormatException(config, "", ex.getMessage(), ex);
            }
            t.sourceFiles = Map.of(
                    "tokenizer.json",
                    Files.readAllBytes(tokenizerJson),
                    "tokenizer_config.json",
                    Files.readAllBytes(config));
        } else {
            t.sourceFiles = Map.of("tokenizer.json", Files.readAllBytes(tokenizerJson));
        }
        return t;
    }

    /**
     * The files a {@link #fromJson} tokenizer was read from ({@code tokenizer.json}, and {@code tokenizer_config.json}
     * when there was one), by file name, so it can be saved beside a model; empty for other instances.
     */
    public Map<String, byte[]> sourceFiles() {
        return sourceFiles;
    }

    /**
     * A copy with the given special tokens (token strings; null or empty for none), each of which must exist.
     * They are also reported by {@link #isSpecial}.
     */
    public BpeTokenizer withSpecialTokens(String bosToken, List<String> eosTokens, String padToken) {
        TokenizerArguments.notNull(eosTokens, "eosTokens");
        int[] e = new int[eosTokens.size()];
        for (int i = 0; i < e.length; i++) e[i] = requireToken(eosTokens.get(i), "eosTokens[" + i + "]");
        OptionalInt b = bosToken == null ? OptionalInt.empty() : OptionalInt.of(requireToken(bosToken, "bosToken"));
        OptionalInt p = padToken == null ? OptionalInt.empty() : OptionalInt.of(requireToken(padToken, "padToken"));
        List<AddedToken> added = new ArrayList<>(rawAdded);
        added.addAll(normalizedAdded);
        return new BpeTokenizer(idToToken, tokenToId, merges, added, nfc, steps, ignoreMerges, unkId, b, e, p);
    }

    private int requireToken(String token, String name) {
        TokenizerArguments.notNull(token, name);
        Integer id = tokenToId.get(token);
        if (id == null) throw new IllegalArgumentException(name + " \"" + token + "\" is not in the vocabulary");
        return id;
    }

    // ---------------------------------------------------------------------------------------------------- encoding

    @Override
    public int[] encode(String text) {
        TokenizerArguments.wellFormed(text, "text");
        IntList out = new IntList();
        splitAdded(text, rawAdded, out, raw -> {
            String normalized = nfc ? Normalizer.normalize(raw, Normalizer.Form.NFC) : raw;
            splitAdded(normalized, normalizedAdded, out, piece -> {
                for (String preToken : preTokenize(piece)) out.addAll(bpe(preToken));
            });
        });
        return out.toArray();
    }

    /** Cuts the added tokens out of text (leftmost, then longest), adding their ids, and passes the gaps on. */
    private static void splitAdded(
            String text, List<AddedToken> added, IntList out, java.util.function.Consumer<String> gap) {
        int start = 0;
        if (!added.isEmpty()) {
            for (int i = 0; i < text.length(); i++) {
                AddedToken match = null;
                for (AddedToken a : added) {
                    if (text.startsWith(a.content(), i)) {
                        match = a;
                        break;
                    }
                }
                if (match == null) continue;
                if (i > start) gap.accept(text.substring(start, i));
                out.add(match.id());
                i += match.content().length() - 1;
                start = i + 1;
            }
        }
        if (start < text.length()) gap.accept(text.substring(start));
    }

    /** The byte-alphabet pre-tokens of one normalized piece holding no added token. */
    List<String> preTokenize(String piece) {
        List<String> pieces = List.of(piece);
        for (Step step : steps) {
            List<String> next = new ArrayList<>();
            for (String p : pieces) {
                if (step.byteLevel()) {
                    String q = step.addPrefixSpace() && !p.startsWith(" ") ? " " + p : p;
                    List<String> parts = step.regex() == null ? List.of(q) : split(q, step.regex(), Behavior.ISOLATED);
                    for (String part : parts) next.add(ByteLevel.encode(part));
                } else {
                    next.addAll(split(p, step.regex(), step.behavior()));
                }
            }
            pieces = next;
        }
        return pieces;
    }

    /** Hugging Face's {@code NormalizedString::split}: matches and gaps, combined per behavior; empty pieces dropped. */
    static List<String> split(String s, Pattern regex, Behavior behavior) {
        List<int[]> parts = new ArrayList<>(); // {start, end, isMatch}
        Matcher m = regex.matcher(s);
        int prev = 0;
        while (m.find()) {
            if (m.start() == m.end()) continue;
            if (m.start() > prev) parts.add(new int[] {prev, m.start(), 0});
            parts.add(new int[] {m.start(), m.end(), 1});
            prev = m.end();
        }
        if (prev < s.length()) parts.add(new int[] {prev, s.length(), 0});
        List<int[]> kept = new ArrayList<>();
        switch (behavior) {
            case ISOLATED -> kept.addAll(parts);
            case REMOVED -> parts.stream().filter(p -> p[2] == 0).forEach(kept::add);
            case MERGED_WITH_PREVIOUS -> {
                boolean previousMatch = false;
                for (int[] p : parts) {
                    if (p[2] == 1 && !previousMatch && !kept.isEmpty()) kept.get(kept.size() - 1)[1] = p[1];
                    else kept.add(p.clone());
                    previousMatch = p[2] == 1;
                }
            }
            case MERGED_WITH_NEXT -> {
                boolean previousMatch = false;
                for (int i = parts.size() - 1; i >= 0; i--) {
                    int[] p = parts.get(i);
                    if (p[2] == 1 && !previousMatch && !kept.isEmpty()) kept.get(kept.size() - 1)[0] = p[0];
                    else kept.add(p.clone());
                    previousMatch = p[2] == 1;
                }
                java.util.Collections.reverse(kept);
            }
            case CONTIGUOUS -> {
                boolean previousMatch = false;
                for (int[] p : parts) {
                    if ((p[2] == 1) == previousMatch && !kept.isEmpty()) kept.get(kept.size() - 1)[1] = p[1];
                    else kept.add(p.clone());
                    previousMatch = p[2] == 1;
                }
            }
        }
        List<String> out = new ArrayList<>(kept.size());
        for (int[] p : kept) if (p[1] > p[0]) out.add(s.substring(p[0], p[1]));
        return out;
    }

    /** The ids of one byte-alphabet pre-token. */
    private int[] bpe(String word) {
        int[] cached = cache.get(word);
        if (cached != null) return cached;
        int[] ids = merge(word);
        if (cache.size() < CACHE_CAPACITY) cache.put(word, ids);
        return ids;
    }

    private int[] merge(String word) {
        if (ignoreMerges) {
            Integer whole = tokenToId.get(word);
            if (whole != null) return new int[] {whole};
        }
        int n = word.length();
        int[] c = new int[n];
        int[] next = new int[n];
        int[] prev = new int[n];
        boolean[] gone = new boolean[n];
        for (int i = 0; i < n; i++) {
            Integer id = tokenToId.get(word.substring(i, i + 1));
            if (id == null) {
                if (unkId < 0) {
                    int b = ByteLevel.tokenBytes(word.substring(i, i + 1))[0] & 0xFF;
                    throw new IllegalArgumentException("the vocabulary has no token for byte 0x"
                            + Integer.toHexString(b) + " and the tokenizer has no unk_token");
                }
                id = unkId;
            }
            c[i] = id;
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        // Queue entries {rank, pos, mergedId}: lowest rank first, then leftmost; stale entries are skipped on pop.
        PriorityQueue<int[]> queue =
                new PriorityQueue<>((x, y) -> x[0] != y[0] ? Integer.compare(x[0], y[0]) : Integer.compare(x[1], y[1]));
        for (int i = 0; i + 1 < n; i++) offer(queue, c, i, i + 1);
        while (!queue.isEmpty()) {
            int[] top = queue.poll();
            int pos = top[1];
            if (gone[pos] || next[pos] < 0) continue;
            int right = next[pos];
            int[] rule = merges.get(pair(c[pos], c[right]));
            if (rule == null || rule[1] != top[2] || rule[0] != top[0]) continue;
            c[pos] = rule[1];
            gone[right] = true;
            next[pos] = next[right];
            if (next[right] >= 0) prev[next[right]] = pos;
            if (prev[pos] >= 0) offer(queue, c, prev[pos], pos);
            if (next[pos] >= 0) offer(queue, c, pos, next[pos]);
        }
        IntList out = new IntList();
        for (int i = 0; i >= 0 && i < n; i = next[i]) out.add(c[i]);
        return out.toArray();
    }

    private void offer(PriorityQueue<int[]> queue, int[] c, int left, int right) {
        int[] rule = merges.get(pair(c[left], c[right]));
        if (rule != null) queue.add(new int[] {rule[0], left, rule[1]});
    }

    private static long pair(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    // ---------------------------------------------------------------------------------------------------- decoding

    @Override
    public String decode(int[] ids, int from, int to) {
        TokenizerArguments.range(ids, from, to);
        ByteBuffer bytes = new ByteBuffer();
        for (int t = from; t < to; t++) bytes.add(ByteLevel.tokenBytes(tokenChecked(ids, t)));
        StringBuilder sb = new StringBuilder(bytes.size);
        ByteLevel.decodeLossy(bytes.data, 0, bytes.size, sb);
        return sb.toString();
    }

    @Override
    public String[] tokenTexts(int[] ids) {
        TokenizerArguments.notNull(ids, "ids");
        String[] pieces = new String[ids.length];
        ByteBuffer pending = new ByteBuffer();
        StringBuilder sb = new StringBuilder();
        for (int t = 0; t < ids.length; t++) {
            pending.add(ByteLevel.tokenBytes(tokenChecked(ids, t)));
            int complete = t == ids.length - 1 ? pending.size : ByteLevel.incompleteTail(pending.data, pending.size);
            sb.setLength(0);
            ByteLevel.decodeLossy(pending.data, 0, complete, sb);
            pieces[t] = sb.toString();
            pending.dropFirst(complete);
        }
        return pieces;
    }

    private String tokenChecked(int[] ids, int t) {
        int id = ids[t];
        if (id < 0 || id >= idToToken.length || idToToken[id] == null) {
            throw new IllegalArgumentException("ids[" + t + "] = " + id + " is not a token id");
        }
        return idToToken[id];
    }

    // ---------------------------------------------------------------------------------------------------- vocabulary

    @Override
    public int vocabSize() {
        return idToToken.length;
    }

    @Override
    public OptionalInt tokenId(String token) {
        TokenizerArguments.notNull(token, "token");
        Integer id = tokenToId.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** @throws IllegalArgumentException when id is out of range or is a gap in the file's ids */
    @Override
    public String token(int id) {
        TokenizerArguments.id(id, idToToken.length, "id");
        if (idToToken[id] == null) throw new IllegalArgumentException("id = " + id + " has no token");
        return idToToken[id];
    }

    @Override
    public OptionalInt bosId() {
        return bos;
    }

    @Override
    public int[] eosIds() {
        return eos.clone();
    }

    @Override
    public OptionalInt padId() {
        return pad;
    }

    @Override
    public boolean isSpecial(int id) {
        TokenizerArguments.id(id, idToToken.length, "id");
        return special[id];
    }

    // ---------------------------------------------------------------------------------------------------- loading

    private static JsonObject readObject(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            JsonElement e = JsonParser.parseReader(r);
            if (!e.isJsonObject()) throw new TokenizerFormatException(file, "", "is not a JSON object");
            return e.getAsJsonObject();
        } catch (JsonParseException e) { // gson's message gives the line, column and JSON path
            throw new TokenizerFormatException(file, "", "malformed JSON: " + JsonErrors.reason(e), e);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new TokenizerFormatException(file, "", "is not UTF-8", e);
        }
    }

    private static String specialName(Path file, JsonObject config, String field) throws TokenizerFormatException {
        JsonElement e = config.get(field);
        if (e == null || e.isJsonNull()) return null;
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) return e.getAsString();
        if (e.isJsonObject() && e.getAsJsonObject().has("content")) {
            JsonElement content = e.getAsJsonObject().get("content");
            if (content.isJsonPrimitive() && content.getAsJsonPrimitive().isString()) return content.getAsString();
        }
        throw new TokenizerFormatException(file, field, "expected a string or an object with a string \"content\"");
    }

    /** Reads one tokenizer.json; every error names the file and the field. */
    private static final class Loader {
        private final Path file;
        private final JsonObject root;

        Loader(Path file, JsonObject root) {
            this.file = file;
            this.root = root;
        }

        BpeTokenizer load() throws TokenizerFormatException {
            if (!isNull(root.get("truncation"))) throw unsupported("truncation", "truncation is not supported");
            JsonObject model = object(root, "model", "model");
            String type = optString(model, "type", "model.type");
            if (type != null && !type.equals("BPE")) throw unsupported("model.type", "model type \"" + type + "\"");
            if (!isNull(model.get("dropout")) && number(model.get("dropout"), "model.dropout") != 0) {
                throw unsupported("model.dropout", "BPE dropout is not deterministic");
            }
            if (bool(model, "byte_fallback", "model.byte_fallback", false))
                throw unsupported("model.byte_fallback", "byte_fallback");
            for (String f : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
                String v = optString(model, f, "model." + f);
                if (v != null && !v.isEmpty()) throw unsupported("model." + f, f + " \"" + v + "\"");
            }
            boolean ignoreMerges = bool(model, "ignore_merges", "model.ignore_merges", false);

            Map<String, Integer> tokenToId = new HashMap<>();
            int maxId = -1;
            JsonObject vocab = object(model, "vocab", "model.vocab");
            for (Map.Entry<String, JsonElement> e : vocab.entrySet()) {
                int id = id(e.getValue(), "model.vocab[\"" + e.getKey() + "\"]");
                tokenToId.put(e.getKey(), id);
                maxId = Math.max(maxId, id);
            }
            List<AddedToken> added = new ArrayList<>();
            JsonElement addedJson = root.get("added_tokens");
            if (!isNull(addedJson)) {
                JsonArray arr = array(addedJson, "added_tokens");
                for (int i = 0; i < arr.size(); i++) {
                    String f = "added_tokens[" + i + "]";
                    JsonObject a = object(arr.get(i), f);
                    int id = id(a.get("id"), f + ".id");
                    String content = optString(a, "content", f + ".content");
                    if (content == null || content.isEmpty()) throw bad(f + ".content", "missing or empty");
                    for (String flag : new String[] {"single_word", "lstrip", "rstrip"}) {
                        if (bool(a, flag, f + "." + flag, false)) throw unsupported(f + "." + flag, flag + ": true");
                    }
                    boolean special = bool(a, "special", f + ".special", false);
                    boolean normalized = bool(a, "normalized", f + ".normalized", !special);
                    Integer previous = tokenToId.get(content);
                    if (previous != null && previous != id) {
                        throw bad(f, "\"" + content + "\" has id " + id + " but the vocabulary gives it " + previous);
                    }
                    tokenToId.put(content, id);
                    maxId = Math.max(maxId, id);
                    added.add(new AddedToken(id, content, special, normalized));
                }
            }
            String[] idToToken = new String[maxId + 1];
            for (Map.Entry<String, Integer> e : tokenToId.entrySet()) {
                String other = idToToken[e.getValue()];
                if (other != null) {
                    throw bad(
                            "model.vocab",
                            "id " + e.getValue() + " is given to both \"" + other + "\" and \"" + e.getKey() + "\"");
                }
                idToToken[e.getValue()] = e.getKey();
            }
            Map<Long, int[]> merges = merges(model, tokenToId);
            int unkId = -1;
            String unk = optString(model, "unk_token", "model.unk_token");
            if (unk != null) {
                Integer id = tokenToId.get(unk);
                if (id == null) throw bad("model.unk_token", "\"" + unk + "\" is not in the vocabulary");
                unkId = id;
            }
            boolean nfc = normalizer(root.get("normalizer"));
            List<Step> steps = new ArrayList<>();
            preTokenizer(root.get("pre_tokenizer"), "pre_tokenizer", steps);
            if (steps.isEmpty()
                    || !steps.get(steps.size() - 1).byteLevel()
                    || steps.stream().filter(Step::byteLevel).count() != 1) {
                throw unsupported(
                        "pre_tokenizer",
                        "only byte-level BPE is supported: the pre-tokenizer must end in"
                                + " exactly one ByteLevel step");
            }
            JsonElement decoder = root.get("decoder");
            String decoderType = isNull(decoder) ? null : optString(object(decoder, "decoder"), "type", "decoder.type");
            if (!"ByteLevel".equals(decoderType)) throw unsupported("decoder.type", "decoder " + decoderType);
            return new BpeTokenizer(
                    idToToken,
                    tokenToId,
                    merges,
                    added,
                    nfc,
                    List.copyOf(steps),
                    ignoreMerges,
                    unkId,
                    OptionalInt.empty(),
                    new int[0],
                    OptionalInt.empty());
        }

        private Map<Long, int[]> merges(JsonObject model, Map<String, Integer> tokenToId)
                throws TokenizerFormatException {
            Map<Long, int[]> merges = new HashMap<>();
            JsonElement m = model.get("merges");
            if (isNull(m)) return merges;
            JsonArray arr = array(m, "model.merges");
            for (int r = 0; r < arr.size(); r++) {
                String f = "model.merges[" + r + "]";
                JsonElement e = arr.get(r);
                String left;
                String right;
                if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
                    String s = e.getAsString();
                    int space = s.indexOf(' ');
                    if (space < 0 || s.indexOf(' ', space + 1) >= 0)
                        throw bad(f, "\"" + s + "\" is not \"left right\"");
                    left = s.substring(0, space);
                    right = s.substring(space + 1);
                } else if (e.isJsonArray() && e.getAsJsonArray().size() == 2) {
                    left = string(e.getAsJsonArray().get(0), f + "[0]");
                    right = string(e.getAsJsonArray().get(1), f + "[1]");
                } else {
                    throw bad(f, "expected \"left right\" or [left, right]");
                }
                Integer a = tokenToId.get(left);
                Integer b = tokenToId.get(right);
                Integer ab = tokenToId.get(left + right);
                if (a == null || b == null || ab == null) {
                    String missing = a == null ? left : b == null ? right : left + right;
                    throw bad(f, "\"" + missing + "\" is not in the vocabulary");
                }
                merges.put(pair(a, b), new int[] {r, ab}); // a repeated pair keeps its last rank, as HF's map does
            }
            return merges;
        }

        private boolean normalizer(JsonElement n) throws TokenizerFormatException {
            if (isNull(n)) return false;
            String type = optString(object(n, "normalizer"), "type", "normalizer.type");
            if ("NFC".equals(type)) return true;
            throw unsupported("normalizer.type", "normalizer " + type);
        }

        private void preTokenizer(JsonElement p, String f, List<Step> steps) throws TokenizerFormatException {
            if (isNull(p)) return;
            JsonObject o = object(p, f);
            String type = optString(o, "type", f + ".type");
            if ("Sequence".equals(type)) {
                JsonArray arr = array(o.get("pretokenizers"), f + ".pretokenizers");
                for (int i = 0; i < arr.size(); i++) preTokenizer(arr.get(i), f + ".pretokenizers[" + i + "]", steps);
            } else if ("ByteLevel".equals(type)) {
                boolean prefix = bool(o, "add_prefix_space", f + ".add_prefix_space", true);
                boolean useRegex = bool(o, "use_regex", f + ".use_regex", true);
                steps.add(new Step(true, useRegex ? GPT2_REGEX : null, Behavior.ISOLATED, prefix));
            } else if ("Split".equals(type)) {
                if (bool(o, "invert", f + ".invert", false)) throw unsupported(f + ".invert", "invert: true");
                JsonObject pattern = object(o.get("pattern"), f + ".pattern");
                Pattern regex;
                if (pattern.has("Regex")) {
                    String source = string(pattern.get("Regex"), f + ".pattern.Regex");
                    try {
                        regex = OnigRegex.compile(source);
                    } catch (IllegalArgumentException e) {
                        throw new TokenizerFormatException(file, f + ".pattern.Regex", e.getMessage(), e);
                    }
                } else if (pattern.has("String")) {
                    regex = Pattern.compile(Pattern.quote(string(pattern.get("String"), f + ".pattern.String")));
                } else {
                    throw bad(f + ".pattern", "expected {\"Regex\": ...} or {\"String\": ...}");
                }
                String behavior = optString(o, "behavior", f + ".behavior");
                Behavior b = switch (behavior == null ? "" : behavior) {
                    case "Removed" -> Behavior.REMOVED;
                    case "Isolated" -> Behavior.ISOLATED;
                    case "MergedWithPrevious" -> Behavior.MERGED_WITH_PREVIOUS;
                    case "MergedWithNext" -> Behavior.MERGED_WITH_NEXT;
                    case "Contiguous" -> Behavior.CONTIGUOUS;
                    default -> throw unsupported(f + ".behavior", "split behavior " + behavior);
                };
                steps.add(new Step(false, regex, b, false));
            } else {
                throw unsupported(f + ".type", "pre-tokenizer " + type);
            }
        }

        private static boolean isNull(JsonElement e) {
            return e == null || e.isJsonNull();
        }

        private JsonObject object(JsonElement e, String f) throws TokenizerFormatException {
            if (e == null || !e.isJsonObject()) throw bad(f, "expected an object");
            return e.getAsJsonObject();
        }

        private JsonObject object(JsonObject parent, String name, String f) throws TokenizerFormatException {
            return object(parent.get(name), f);
        }

        private JsonArray array(JsonElement e, String f) throws TokenizerFormatException {
            if (e == null || !e.isJsonArray()) throw bad(f, "expected an array");
            return e.getAsJsonArray();
        }

        private String string(JsonElement e, String f) throws TokenizerFormatException {
            if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString())
                throw bad(f, "expected a string");
            return e.getAsString();
        }

        private String optString(JsonObject o, String name, String f) throws TokenizerFormatException {
            JsonElement e = o.get(name);
            return isNull(e) ? null : string(e, f);
        }

        private boolean bool(JsonObject o, String name, String f, boolean dflt) throws TokenizerFormatException {
            JsonElement e = o.get(name);
            if (isNull(e)) return dflt;
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) throw bad(f, "expected true or false");
            return e.getAsBoolean();
        }

        private double number(JsonElement e, String f) throws TokenizerFormatException {
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) throw bad(f, "expected a number");
            return e.getAsDouble();
        }

        private int id(JsonElement e, String f) throws TokenizerFormatException {
            if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) throw bad(f, "expected an id");
            double d = e.getAsDouble();
            if (d != Math.rint(d) || d < 0 || d >= MAX_VOCAB)
                throw bad(f, "id " + e + " is not in [0, " + MAX_VOCAB + ")");
            return (int) d;
        }

        private TokenizerFormatException bad(String f, String message) {
            return new TokenizerFormatException(file, f, message);
        }

        private TokenizerFormatException unsupported(String f, String what) {
            return new TokenizerFormatException(file, f, "unsupported: " + what);
        }
    }

    /** Growable int array. */
    private static final class IntList {
        int[] data = new int[16];
        int size;

        void add(int v) {
            if (size == data.length) data = Arrays.copyOf(data, size * 2);
            data[size++] = v;
        }

        void addAll(int[] vs) {
            for (int v : vs) add(v);
        }

        int[] toArray() {
            return Arrays.copyOf(data, size);
        }
    }

    /** Growable byte array. */
    private static final class ByteBuffer {
        byte[] data = new byte[64];
        int size;

        void add(byte[] bs) {
            if (size + bs.length > data.length) data = Arrays.copyOf(data, Math.max(data.length * 2, size + bs.length));
            System.arraycopy(bs, 0, data, size, bs.length);
            size += bs.length;
        }

        void dropFirst(int n) {
            System.arraycopy(data, n, data, 0, size - n);
            size -= n;
        }
    }
}
