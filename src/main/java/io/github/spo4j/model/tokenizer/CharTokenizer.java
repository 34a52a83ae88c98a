package io.github.spo4j.model.tokenizer;

import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeSet;

/**
 * One token per Unicode code point of an explicit alphabet, after three special tokens: {@link #PAD} = 0,
 * {@link #BOS} = 1, {@link #EOS} = 2, then the alphabet's code points in order from id 3. Special tokens decode to
 * their names ({@code <pad>}, {@code <bos>}, {@code <eos>}) and are never produced by {@link #encode}.
 */
public final class CharTokenizer implements Tokenizer {

    /** Padding id. */
    public static final int PAD = 0;
    /** Beginning-of-sequence id. */
    public static final int BOS = 1;
    /** End-of-sequence id. */
    public static final int EOS = 2;

    private static final String[] SPECIAL_NAMES = {"<pad>", "<bos>", "<eos>"};

    /** Digits, arithmetic operators, punctuation, space, newline and ASCII letters: the built-in arithmetic task. */
    public static final String ARITHMETIC_ALPHABET =
            "0123456789+-*/=().,:?! \nabcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    private final String alphabet;
    private final int[] codePoints;
    private final Map<Integer, Integer> ids = new HashMap<>();

    /** @param alphabet distinct code points, no unpaired surrogate, at least one */
    public CharTokenizer(String alphabet) {
        TokenizerArguments.wellFormed(alphabet, "alphabet");
        this.alphabet = alphabet;
        codePoints = alphabet.codePoints().toArray();
        if (codePoints.length == 0) throw new IllegalArgumentException("alphabet must not be empty");
        for (int i = 0; i < codePoints.length; i++) {
            Integer previous = ids.put(codePoints[i], SPECIAL_NAMES.length + i);
            if (previous != null) {
                throw new IllegalArgumentException("alphabet repeats " + describe(codePoints[i]) + " at code point " + i
                        + " (first at " + (previous - SPECIAL_NAMES.length) + ")");
            }
        }
    }

    /** The tokenizer of {@link #ARITHMETIC_ALPHABET}. */
    public static CharTokenizer arithmetic() {
        return new CharTokenizer(ARITHMETIC_ALPHABET);
    }

    /**
     * The tokenizer whose alphabet is every code point occurring in {@code texts}, sorted by code point, so the same
     * characters give the same ids whatever the order of the texts.
     *
     * @throws IllegalArgumentException naming the index of a null or ill-formed text, or when the texts hold no
     *                                  character at all
     */
    public static CharTokenizer fromTexts(Iterable<String> texts) {
        TokenizerArguments.notNull(texts, "texts");
        TreeSet<Integer> seen = new TreeSet<>();
        int i = 0;
        for (String text : texts) {
            TokenizerArguments.wellFormed(text, "texts[" + i + "]");
            text.codePoints().forEach(seen::add);
            i++;
        }
        if (seen.isEmpty()) throw new IllegalArgumentException("texts hold no character (" + i + " texts)");
        StringBuilder sb = new StringBuilder(seen.size());
        for (int cp : seen) sb.appendCodePoint(cp);
        return new CharTokenizer(sb.toString());
    }

    /** The alphabet in id order (id 3 first): {@code new CharTokenizer(alphabet())} gives the same ids. */
    public String alphabet() {
        return alphabet;
    }

    /** The char index of the first code point of {@code text} outside the alphabet, or -1 when there is none. */
    public int firstUnknown(String text) {
        if (text == null) throw new IllegalArgumentException("text must not be null");
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            if (!ids.containsKey(cp)) return i;
            i += Character.charCount(cp);
        }
        return -1;
    }

    /** @throws IllegalArgumentException naming the first character outside the alphabet and its index in text */
    @Override
    public int[] encode(String text) {
        TokenizerArguments.wellFormed(text, "text");
        int[] out = new int[text.codePointCount(0, text.length())];
        int t = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            Integer id = ids.get(cp);
            if (id == null) {
                throw new IllegalArgumentException(
                        "text has " + describe(cp) + " at index " + i + ", which is not in the tokenizer's alphabet");
            }
            out[t++] = id;
            i += Character.charCount(cp);
        }
        return out;
    }

    @Override
    public String decode(int[] ids, int from, int to) {
        TokenizerArguments.range(ids, from, to);
        StringBuilder sb = new StringBuilder(to - from);
        for (int t = from; t < to; t++) sb.append(token(ids[t]));
        return sb.toString();
    }

    @Override
    public String[] tokenTexts(int[] ids) {
        TokenizerArguments.notNull(ids, "ids");
        String[] pieces = new String[ids.length];
        for (int t = 0; t < ids.length; t++) pieces[t] = token(ids[t]);
        return pieces;
    }

    @Override
    public int vocabSize() {
        return SPECIAL_NAMES.length + codePoints.length;
    }

    @Override
    public OptionalInt tokenId(String token) {
        TokenizerArguments.notNull(token, "token");
        for (int i = 0; i < SPECIAL_NAMES.length; i++) if (SPECIAL_NAMES[i].equals(token)) return OptionalInt.of(i);
        if (token.isEmpty() || token.codePointCount(0, token.length()) != 1) return OptionalInt.empty();
        Integer id = ids.get(token.codePointAt(0));
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public String token(int id) {
        TokenizerArguments.id(id, vocabSize(), "id");
        return id < SPECIAL_NAMES.length
                ? SPECIAL_NAMES[id]
                : Character.toString(codePoints[id - SPECIAL_NAMES.length]);
    }

    @Override
    public OptionalInt bosId() {
        return OptionalInt.of(BOS);
    }

    @Override
    public int[] eosIds() {
        return new int[] {EOS};
    }

    @Override
    public OptionalInt padId() {
        return OptionalInt.of(PAD);
    }

    @Override
    public boolean isSpecial(int id) {
        TokenizerArguments.id(id, vocabSize(), "id");
        return id < SPECIAL_NAMES.length;
    }

    /** A code point as the messages show it: the character (or its name for whitespace and controls) and U+XXXX. */
    public static String describe(int cp) {
        String hex = String.format("U+%04X", cp);
        return Character.isISOControl(cp) || Character.isWhitespace(cp)
                ? hex
                : "'" + Character.toString(cp) + "' (" + hex + ")";
    }
}
