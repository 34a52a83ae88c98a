package io.github.spo4j.model.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2's byte-level alphabet and the UTF-8 decoding of its byte strings.
 *
 * <p>Byte b maps to the character b itself when b is printable Latin-1 ('!'..'~', '¡'..'¬', '®'..'ÿ'), and the
 * other 68 bytes, in increasing order, map to U+0100, U+0101, ... (GPT-2's {@code bytes_to_unicode}).
 *
 * <p>Byte strings decode as Rust's {@code String::from_utf8_lossy} does (what Hugging Face's ByteLevel decoder
 * uses): each maximal subpart of an ill-formed sequence becomes one U+FFFD.
 */
final class ByteLevel {
    private ByteLevel() {}

    /** [256] the character of each byte. */
    static final char[] BYTE_TO_CHAR = new char[256];
    /** The byte of each character of the alphabet, -1 for other characters below 0x200. */
    private static final int[] CHAR_TO_BYTE = new int[0x200];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (0x100 + next++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    /** @return the alphabet form of text's UTF-8 bytes */
    static String encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        return new String(out);
    }

    /**
     * The bytes of a token: its characters' bytes when all are in the alphabet, else its own UTF-8 bytes (Hugging
     * Face's ByteLevel decoder does the same for tokens, such as some added tokens, outside the alphabet).
     */
    static byte[] tokenBytes(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b < 0) return token.getBytes(StandardCharsets.UTF_8);
            out[i] = (byte) b;
        }
        return out;
    }

    /**
     * Where the trailing incomplete (but so far well-formed) UTF-8 sequence of {@code bytes[0, n)} starts; n if none.
     * Decoding up to that point and the rest later gives the same text as decoding everything at once.
     */
    static int incompleteTail(byte[] bytes, int n) {
        int i = 0;
        while (i < n) {
            int len = validPrefix(bytes, i, n);
            if (len < 0) return i;
            i += Math.max(len, 1);
        }
        return n;
    }

    /** Appends bytes[from, to) decoded with U+FFFD for each maximal ill-formed subpart. */
    static void decodeLossy(byte[] bytes, int from, int to, StringBuilder out) {
        int i = from;
        while (i < to) {
            int len = validPrefix(bytes, i, to);
            if (len < 0) { // incomplete at the end: one replacement for the whole tail
                out.append('\uFFFD');
                return;
            }
            int need = sequenceLength(bytes[i] & 0xFF);
            if (need > 0 && len == need) {
                out.append(new String(bytes, i, len, StandardCharsets.UTF_8));
            } else {
                out.append('\uFFFD');
                len = Math.max(len, 1);
            }
            i += len;
        }
    }

    /**
     * At i: the sequence's length if complete and well-formed; else the length of its maximal well-formed prefix
     * that is followed by a bad byte (0 when the lead byte itself is bad); -1 if the bytes end before it is complete
     * or bad.
     */
    private static int validPrefix(byte[] bytes, int i, int n) {
        int b0 = bytes[i] & 0xFF;
        int need = sequenceLength(b0);
        if (need == 1) return 1;
        if (need == 0) return 0;
        for (int k = 1; k < need; k++) {
            if (i + k >= n) return -1;
            int b = bytes[i + k] & 0xFF;
            int lo = 0x80;
            int hi = 0xBF;
            if (k == 1) {
                if (b0 == 0xE0) lo = 0xA0;
                else if (b0 == 0xED) hi = 0x9F;
                else if (b0 == 0xF0) lo = 0x90;
                else if (b0 == 0xF4) hi = 0x8F;
            }
            if (b < lo || b > hi) return k;
        }
        return need;
    }

    /** 1 for ASCII, 2..4 for a valid lead byte, 0 for a byte that cannot start a sequence. */
    private static int sequenceLength(int b0) {
        if (b0 < 0x80) return 1;
        if (b0 >= 0xC2 && b0 <= 0xDF) return 2;
        if (b0 >= 0xE0 && b0 <= 0xEF) return 3;
        if (b0 >= 0xF0 && b0 <= 0xF4) return 4;
        return 0;
    }
}
