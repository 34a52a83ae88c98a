package io.github.spo4j.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hand-built tokenizer.json: ids 0..255 are the byte-alphabet characters of bytes 0..255 (so 'h' = 104 and
 * ' ' = 'Ġ' = 32), then the merges below produce ids 256.., then added tokens.
 */
public class BpeTokenizerTest {

    static final String QWEN2_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|"
            + " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
            + " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Merges in rank order; the merged tokens get ids 256, 257, ... in this order. */
    static final String[] MERGES = {"h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld"};

    static final int HE = 256, LL = 257, HELL = 258, HELLO = 259, G_WORLD = 264;
    static final int EOT = 265, ANGLE_E = 266, XYZ = 267;

    @TempDir
    Path dir;

    /** GPT-2 layout: ByteLevel pre-tokenizer with the GPT-2 regex, "a b" merges; 268 ids, EOS "<|endoftext|>" = 265. */
    public static JsonObject gpt2Json() {
        JsonObject vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab.addProperty(String.valueOf(ByteLevel.BYTE_TO_CHAR[b]), b);
        JsonArray merges = new JsonArray();
        for (int r = 0; r < MERGES.length; r++) {
            merges.add(MERGES[r]);
            vocab.addProperty(MERGES[r].replace(" ", ""), 256 + r);
        }
        vocab.addProperty("xyz", XYZ);
        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        model.add("dropout", null);
        model.add("unk_token", null);
        model.addProperty("fuse_unk", false);
        model.addProperty("byte_fallback", false);
        model.add("vocab", vocab);
        model.add("merges", merges);
        JsonObject root = new JsonObject();
        root.add("truncation", null);
        root.add("padding", null);
        JsonArray added = new JsonArray();
        added.add(added(EOT, "<|endoftext|>", true));
        added.add(added(ANGLE_E, "<|e", false));
        root.add("added_tokens", added);
        root.add("normalizer", null);
        root.add("pre_tokenizer", byteLevel(true));
        root.add("post_processor", byteLevel(true));
        root.add("decoder", byteLevel(true));
        root.add("model", model);
        return root;
    }

    /** Qwen2 layout: NFC, Sequence[Split(regex), ByteLevel(use_regex false)], [a, b] merges. */
    static JsonObject qwen2Json(String pattern) {
        JsonObject root = gpt2Json();
        JsonArray listMerges = new JsonArray();
        for (String m : MERGES) {
            JsonArray pair = new JsonArray();
            for (String part : m.split(" ")) pair.add(part);
            listMerges.add(pair);
        }
        root.getAsJsonObject("model").add("merges", listMerges);
        root.add("normalizer", JsonParser.parseString("{\"type\":\"NFC\"}"));
        JsonObject split = new JsonObject();
        split.addProperty("type", "Split");
        JsonObject p = new JsonObject();
        p.addProperty("Regex", pattern);
        split.add("pattern", p);
        split.addProperty("behavior", "Isolated");
        split.addProperty("invert", false);
        JsonArray seq = new JsonArray();
        seq.add(split);
        seq.add(byteLevel(false));
        JsonObject pre = new JsonObject();
        pre.addProperty("type", "Sequence");
        pre.add("pretokenizers", seq);
        root.add("pre_tokenizer", pre);
        return root;
    }

    static JsonObject added(int id, String content, boolean special) {
        JsonObject a = new JsonObject();
        a.addProperty("id", id);
        a.addProperty("content", content);
        a.addProperty("single_word", false);
        a.addProperty("lstrip", false);
        a.addProperty("rstrip", false);
        a.addProperty("normalized", false);
        a.addProperty("special", special);
        return a;
    }

    static JsonObject byteLevel(boolean useRegex) {
        JsonObject o = new JsonObject();
        o.addProperty("type", "ByteLevel");
        o.addProperty("add_prefix_space", false);
        o.addProperty("trim_offsets", false);
        o.addProperty("use_regex", useRegex);
        return o;
    }

    BpeTokenizer load(JsonObject json) throws IOException {
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, json.toString(), StandardCharsets.UTF_8);
        return BpeTokenizer.fromJson(file);
    }

    static int[] bytes(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) ids[i] = b[i] & 0xFF;
        return ids;
    }

    @Test
    void aTokenizerReadFromFilesIsSavedBesideAModelAndReadBackTheSame() throws IOException {
        BpeTokenizer t = load(gpt2Json());
        assertArrayEquals(
                Files.readAllBytes(dir.resolve("tokenizer.json")),
                t.sourceFiles().get("tokenizer.json"));
        Path model = dir.resolve("model");
        Files.createDirectories(model);
        assertTrue(io.github.spo4j.train.Workspace.saveTokenizer(model, t));
        var back = io.github.spo4j.train.Workspace.loadTokenizer(model);
        assertArrayEquals(t.encode("hello world hi"), back.encode("hello world hi"));
        assertTrue(t.withSpecialTokens(null, List.of(), null).sourceFiles().isEmpty(), "a derived copy has no files");
    }

    @Test
    void byteAlphabetIsGpt2s() {
        assertEquals('!', ByteLevel.BYTE_TO_CHAR['!']);
        assertEquals('Ġ', ByteLevel.BYTE_TO_CHAR[' ']); // U+0120: the 33rd unprintable byte
        assertEquals('Ċ', ByteLevel.BYTE_TO_CHAR['\n']);
        assertEquals('\u0100', ByteLevel.BYTE_TO_CHAR[0]);
        assertEquals('Ń', ByteLevel.BYTE_TO_CHAR[0xAD]); // U+0143: the 68th and last
    }

    @Test
    void knownTokenizations() throws IOException {
        for (BpeTokenizer t : new BpeTokenizer[] {load(gpt2Json()), load(qwen2Json(QWEN2_PATTERN))}) {
            // hello: he(r0) -> ll(r1) -> hell(r2) -> hello(r3); Ġworld: Ġw, or, Ġwor, ld, Ġworld
            assertArrayEquals(new int[] {HELLO, G_WORLD}, t.encode("hello world"));
            assertArrayEquals(new int[] {HELL}, t.encode("hell"));
            // equal ranks: the leftmost pair merges first
            assertArrayEquals(new int[] {LL, 'l'}, t.encode("lll"));
            // "hel": he, then no merge for (he, l)
            assertArrayEquals(new int[] {HE, 'l'}, t.encode("hel"));
            // merges never cross pre-tokens: " hello" is Ġ + hello
            assertArrayEquals(new int[] {'h', 'i', 32, HELLO}, t.encode("hi hello"));
            assertArrayEquals(new int[] {'x', 'y', 'z'}, t.encode("xyz")); // in the vocab, but no merges lead there
            assertEquals("hello world", t.decode(new int[] {HELLO, G_WORLD}));
            assertEquals(OptionalInt.of(G_WORLD), t.tokenId("Ġworld"));
            assertEquals("Ġworld", t.token(G_WORLD));
            assertEquals(268, t.vocabSize());
        }
    }

    @Test
    void ignoreMergesTakesWholeVocabularyWords() throws IOException {
        JsonObject json = gpt2Json();
        json.getAsJsonObject("model").addProperty("ignore_merges", true);
        BpeTokenizer t = load(json);
        assertArrayEquals(new int[] {XYZ}, t.encode("xyz"));
        assertArrayEquals(new int[] {'x', 'y'}, t.encode("xy"));
    }

    @Test
    void addedTokensAreNeverSplitAndMatchLongestFirst() throws IOException {
        BpeTokenizer t = load(gpt2Json());
        assertArrayEquals(new int[] {HELLO, EOT, G_WORLD}, t.encode("hello<|endoftext|> world"));
        assertArrayEquals(new int[] {HE, 'l', EOT, 'l', 'o'}, t.encode("hel<|endoftext|>lo"));
        assertArrayEquals(new int[] {ANGLE_E, 'x'}, t.encode("<|ex"));
        assertArrayEquals(new int[] {EOT, EOT}, t.encode("<|endoftext|><|endoftext|>"));
        assertEquals("hello<|endoftext|> world", t.decode(new int[] {HELLO, EOT, G_WORLD}));
        assertTrue(t.isSpecial(EOT));
        assertFalse(t.isSpecial(ANGLE_E));
        assertFalse(t.isSpecial(HELLO));
        assertEquals("hello world", t.decodeSkippingSpecial(new int[] {HELLO, EOT, G_WORLD}));
    }

    @Test
    void specialTokensComeFromTokenizerConfig() throws IOException {
        Files.writeString(
                dir.resolve("tokenizer_config.json"),
                "{\"bos_token\": null, \"eos_token\": {\"content\": \"<|endoftext|>\"}, \"pad_token\": \"<|endoftext|>\"}");
        BpeTokenizer t = load(gpt2Json());
        assertArrayEquals(new int[] {EOT}, t.eosIds());
        assertEquals(OptionalInt.of(EOT), t.padId());
        assertEquals(OptionalInt.empty(), t.bosId());
        BpeTokenizer u = t.withSpecialTokens("<|e", List.of("<|endoftext|>", "hello"), null);
        assertEquals(OptionalInt.of(ANGLE_E), u.bosId());
        assertArrayEquals(new int[] {EOT, HELLO}, u.eosIds());
        assertTrue(u.isSpecial(HELLO));
        assertThrows(IllegalArgumentException.class, () -> t.withSpecialTokens("<nope>", List.of(), null));
    }

    @Test
    void roundTrips() throws IOException {
        String[] texts = {
            "",
            "hello world",
            "Hello, World! It's 2024.",
            "crème brûlée à la mode",
            "naïve café",
            "日本語のテキスト、中文文本",
            "emoji 😀👍🏽 and 🇫🇷 flags",
            "line one\nline two\r\n\n\ttabbed",
            "runs   of    spaces     ",
            "   leading",
            "x<|endoftext|>y",
            "\u0000\u001f\u007f control"
        };
        for (BpeTokenizer t : new BpeTokenizer[] {load(gpt2Json()), load(qwen2Json(LLAMA3_PATTERN))}) {
            for (String text : texts) {
                int[] ids = t.encode(text);
                assertEquals(text, t.decode(ids), text);
                assertEquals(text, String.join("", t.tokenTexts(ids)), text);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> load(gpt2Json()).encode("bad \uDC00 surrogate"));
    }

    @Test
    void nfcNormalizerComposes() throws IOException {
        String decomposed = "e\u0301";
        assertArrayEquals(bytes("é"), load(qwen2Json(QWEN2_PATTERN)).encode(decomposed));
        assertArrayEquals(bytes(decomposed), load(gpt2Json()).encode(decomposed));
    }

    @Test
    void tokenTextsGivePartialCharactersToTheCompletingToken() throws IOException {
        BpeTokenizer t = load(gpt2Json());
        int[] ids = t.encode("aé😀");
        assertArrayEquals(new int[] {'a', 0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80}, ids);
        assertArrayEquals(new String[] {"a", "", "é", "", "", "", "😀"}, t.tokenTexts(ids));
        // ill-formed bytes: U+FFFD per maximal subpart, as Rust's from_utf8_lossy
        assertEquals("\uFFFD", t.decode(new int[] {0xC3}));
        assertEquals("\uFFFDa", t.decode(new int[] {0xE2, 0x82, 'a'}));
        assertEquals("\uFFFD\uFFFD", t.decode(new int[] {0xF0, 0x80}));
        assertEquals("\uFFFD\uFFFDb", t.decode(new int[] {0xFF, 0x80, 'b'}));
        assertEquals("\uFFFD\uFFFD", t.decode(new int[] {0xED, 0xA0, 0x80}).substring(0, 2)); // surrogate half
        assertArrayEquals(new String[] {"", "\uFFFDa"}, t.tokenTexts(new int[] {0xE2, 'a'}));
        assertArrayEquals(new String[] {"", "\uFFFD"}, t.tokenTexts(new int[] {0xE2, 0x82}));
        assertEquals("é", t.decode(ids, 1, 3));
    }

    @Test
    void gpt2PreTokenization() throws IOException {
        BpeTokenizer t = load(gpt2Json());
        assertEquals(
                List.of("Hello", "Ġworld", "Ġ123", "ĠI", "'", "M", "Ġok", "!!", "ĊĊĠ", "Ġend"),
                t.preTokenize("Hello world 123 I'M ok!!\n\n  end"));
        assertEquals(
                List.of("I", "'m", "Ġhere", ",", "Ġyou", "'re", "Ġnot", "Ġ", "Ġ!"),
                t.preTokenize("I'm here, you're not  !"));
    }

    @Test
    void qwen2SplitRegex() {
        Pattern p = OnigRegex.compile(QWEN2_PATTERN);
        assertEquals(
                List.of("Hello", " world", " ", "1", "2", "3", " I", "'M", " ok", "!!\n\n", " ", " end"),
                BpeTokenizer.split("Hello world 123 I'M ok!!\n\n  end", p, BpeTokenizer.Behavior.ISOLATED));
        assertEquals(
                List.of("DON", "'T", " don", "'t", " we", "'ll", " x", "'S"),
                BpeTokenizer.split("DON'T don't we'll x'S", p, BpeTokenizer.Behavior.ISOLATED));
        // \s*[\r\n]+ takes whitespace up to the last newline; \s+(?!\S) leaves one space for the next word
        assertEquals(
                List.of("a", "  \n\n", "   ", " b"),
                BpeTokenizer.split("a  \n\n    b", p, BpeTokenizer.Behavior.ISOLATED));
        // \p{L} is Unicode: accented and CJK letters stay in the word; the non-letter before a word joins it
        assertEquals(
                List.of("crème", " 日本", "(x", ")"),
                BpeTokenizer.split("crème 日本(x)", p, BpeTokenizer.Behavior.ISOLATED));
        // \s is Unicode White_Space (U+3000 ideographic space), as in Oniguruma
        assertEquals(
                List.of("a", "\u3000", "\u3000b"),
                BpeTokenizer.split("a\u3000\u3000b", p, BpeTokenizer.Behavior.ISOLATED));
        Pattern llama = OnigRegex.compile(LLAMA3_PATTERN);
        assertEquals(
                List.of("123", "45", " ", "6"), BpeTokenizer.split("12345 6", llama, BpeTokenizer.Behavior.ISOLATED));
    }

    @Test
    void splitBehaviors() {
        Pattern dash = Pattern.compile("-");
        String s = "a-b--c";
        assertEquals(
                List.of("a", "-", "b", "-", "-", "c"), BpeTokenizer.split(s, dash, BpeTokenizer.Behavior.ISOLATED));
        assertEquals(List.of("a", "b", "c"), BpeTokenizer.split(s, dash, BpeTokenizer.Behavior.REMOVED));
        assertEquals(
                List.of("a-", "b-", "-", "c"), BpeTokenizer.split(s, dash, BpeTokenizer.Behavior.MERGED_WITH_PREVIOUS));
        assertEquals(
                List.of("a", "-b", "-", "-c"), BpeTokenizer.split(s, dash, BpeTokenizer.Behavior.MERGED_WITH_NEXT));
        assertEquals(List.of("a", "-", "b", "--", "c"), BpeTokenizer.split(s, dash, BpeTokenizer.Behavior.CONTIGUOUS));
    }

    @Test
    void qwen2DigitsAreOneTokenEach() throws IOException {
        BpeTokenizer t = load(qwen2Json(QWEN2_PATTERN));
        assertEquals(List.of("x", "Ġ", "1", "2", "3"), t.preTokenize("x 123"));
        assertArrayEquals(new int[] {'x', 32, '1', '2', '3'}, t.encode("x 123"));
    }

    @Test
    void unsupportedConfigsAreRejectedByName() throws IOException {
        assertRejected(j -> j.getAsJsonObject("model").addProperty("type", "WordPiece"), "model.type");
        assertRejected(j -> j.add("normalizer", JsonParser.parseString("{\"type\":\"Lowercase\"}")), "normalizer.type");
        assertRejected(
                j -> j.add("pre_tokenizer", JsonParser.parseString("{\"type\":\"Whitespace\"}")), "pre_tokenizer.type");
        assertRejected(
                j -> j.add(
                        "pre_tokenizer",
                        JsonParser.parseString(
                                "{\"type\":\"Sequence\",\"pretokenizers\":"
                                        + "[{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\s\"},\"behavior\":\"Isolated\",\"invert\":false}]}")),
                "pre_tokenizer");
        assertRejected(j -> j.add("decoder", null), "decoder.type");
        assertRejected(j -> j.getAsJsonObject("model").addProperty("dropout", 0.1), "model.dropout");
        assertRejected(j -> j.getAsJsonObject("model").addProperty("byte_fallback", true), "model.byte_fallback");
        assertRejected(
                j -> j.getAsJsonArray("added_tokens").get(0).getAsJsonObject().addProperty("lstrip", true),
                "added_tokens[0].lstrip");
        assertRejected(j -> j.getAsJsonObject("model").getAsJsonArray("merges").add("q zz"), "model.merges[9]");
        assertRejected(j -> j.getAsJsonObject("model").getAsJsonArray("merges").add("a b c"), "model.merges[9]");
        assertRejected(j -> j.add("truncation", JsonParser.parseString("{\"max_length\": 8}")), "truncation");
        assertRejected(j -> j.getAsJsonObject("model").getAsJsonObject("vocab").addProperty("dup", 5), "model.vocab");
        assertRejected(
                j -> j.getAsJsonObject("model").getAsJsonObject("vocab").addProperty("huge", 1 << 30),
                "model.vocab[\"huge\"]");
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, "{\"model\": {\"type\": \"BPE\",");
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> BpeTokenizer.fromJson(file));
        assertTrue(
                e.getMessage().contains(file.toString()) && e.getMessage().contains("malformed JSON"), e.getMessage());
    }

    private void assertRejected(Consumer<JsonObject> edit, String field) {
        JsonObject json = gpt2Json();
        edit.accept(json);
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> load(json));
        assertTrue(e.getMessage().contains(": " + field + ":"), e.getMessage());
    }
}
