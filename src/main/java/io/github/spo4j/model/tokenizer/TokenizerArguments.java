package io.github.spo4j.model.tokenizer;

/** Argument checks of this package; messages name the argument. */
final class TokenizerArguments {
    private TokenizerArguments() {}

    static <T> T notNull(T o, String name) {
        if (o == null) throw new IllegalArgumentException(name + " must not be null");
        return o;
    }

    static void range(int[] ids, int from, int to) {
        notNull(ids, "ids");
        if (from < 0 || to > ids.length || from > to) {
            throw new IllegalArgumentException(
                    "ids range [" + from + ", " + to + ") is not inside [0, " + ids.length + "]");
        }
    }

    static void id(int id, int vocabSize, String name) {
        if (id < 0 || id >= vocabSize) {
            throw new IllegalArgumentException(name + " = " + id + " is outside [0, " + vocabSize + ")");
        }
    }

    /** Java strings may hold unpaired surrogates, which are not text and have no UTF-8 form. */
    static void wellFormed(String text, String name) {
        notNull(text, name);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException(name + " has an unpaired surrogate U+"
                        + Integer.toHexString(c).toUpperCase() + " at index " + i);
            }
        }
    }
}
