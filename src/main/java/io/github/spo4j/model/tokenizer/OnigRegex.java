package io.github.spo4j.model.tokenizer;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Hugging Face compiles tokenizer.json regexes with Oniguruma (Ruby syntax, UTF-8). The java.util.regex equivalent:
 * <ul>
 *   <li>{@code \s \d \w} and case-insensitive matching are Unicode in Oniguruma: UNICODE_CHARACTER_CLASS (Java's
 *       {@code \s} is then the White_Space property, as Oniguruma's is);</li>
 *   <li>{@code .} excludes only '\n' and {@code ^ $} match at line breaks in Ruby syntax: UNIX_LINES | MULTILINE;</li>
 *   <li>{@code \h} is a hex digit in Oniguruma but horizontal space in Java: rewritten.</li>
 * </ul>
 * {@code \p{L}}, {@code \p{N}}, lookahead, atomic groups and possessive quantifiers mean the same in both. Both
 * engines backtrack and take the first alternative that matches, so matches agree; general categories follow each
 * engine's Unicode version.
 */
final class OnigRegex {
    private OnigRegex() {}

    static final int FLAGS = Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNIX_LINES | Pattern.MULTILINE;

    /** @throws IllegalArgumentException naming the construct when the pattern has no java.util.regex translation */
    static Pattern compile(String onig) {
        StringBuilder out = new StringBuilder(onig.length() + 16);
        int classDepth = 0;
        for (int i = 0; i < onig.length(); i++) {
            char c = onig.charAt(i);
            if (c == '\\' && i + 1 < onig.length()) {
                char e = onig.charAt(++i);
                if (e == 'h') {
                    out.append(classDepth > 0 ? "0-9a-fA-F" : "[0-9a-fA-F]");
                } else if (e == 'H') {
                    if (classDepth > 0)
                        throw new IllegalArgumentException("\\H inside a character class at index " + (i - 1));
                    out.append("[^0-9a-fA-F]");
                } else {
                    out.append('\\').append(e);
                }
                continue;
            }
            if (c == '[') classDepth++;
            else if (c == ']' && classDepth > 0) classDepth--;
            out.append(c);
        }
        try {
            return Pattern.compile(out.toString(), FLAGS);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException(
                    "no java.util.regex form: " + e.getDescription() + " at index " + e.getIndex(), e);
        }
    }
}
