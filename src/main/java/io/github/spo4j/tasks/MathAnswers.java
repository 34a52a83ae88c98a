package io.github.spo4j.tasks;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * MATH's answer extraction, normalization, equivalence and reward (SPO_SPEC §5; the behaviour of the Hendrycks MATH
 * {@code strip_string} and the Minerva grader as used by VinePPO/SPO, without their SymPy step).
 * <p>
 * <b>Extraction</b> ({@link #extract}) takes the first of these forms that yields a non-empty answer:
 * <ol>
 *   <li>the text between the last {@code "final answer is $"} and the {@code "$. I hope"} after it;
 *   <li>the content of the last complete {@code \boxed{…}} or {@code \fbox{…}} (braces matched with nesting), or
 *       the token after {@code "\boxed "} when no brace follows;
 *   <li>the rest of the line after the last {@code "he answer is"}, up to the end of its sentence (a period
 *       followed by whitespace);
 *   <li>the first line of the last {@code ```output} code block;
 *   <li>the last number (optional minus, digits with optional thousands commas, optional decimals), commas removed.
 * </ol>
 * The answer is stripped of surrounding whitespace, leading colons and trailing periods and slashes.
 * <p>
 * <b>Equivalence</b> ({@link #isEquivalent}) holds when the {@link #normalize normalized} answers are equal as
 * strings, or both are numbers within {@link #TOLERANCE}, or both are tuples or intervals with the same brackets
 * whose elements are pairwise equivalent. Numbers are decimals ({@code 1,000} with thousands commas,
 * {@code -2.5}, {@code .5}), {@code \frac{a}{b}} and {@code a/b} of decimals, and such a number followed by
 * {@code %}. A percentage compared with a number without {@code %} matches either its value or its value / 100
 * ({@code 50\%} equals {@code 50} and {@code 0.5}); the reference also matches x against 100x without any
 * {@code %}, which this does not.
 * <p>
 * Not covered: symbolic algebra (the reference's SymPy check), so {@code \sqrt{2}/2} and
 * {@code \frac{\sqrt{2}}{2}} are equal only through normalization to the same string, and {@code 2x+2} differs
 * from {@code 2(x+1)}; surds, {@code \pi} and other constants are not evaluated; mixed numbers
 * ({@code 2\frac{1}{2}}); unordered sets, unions and lists of several answers (compared as strings); matrices
 * (compared as strings); equations with a left side longer than two characters.
 */
public final class MathAnswers {
    /**
     * Two numbers are equal when {@code |a - b| <= max(1e-3, 1e-9 * max(|a|, |b|))}: the reference's
     * {@code math.isclose(a, b, abs_tol=1e-3)}, an absolute tolerance (a relative 1e-3 would take 1001 for 1000).
     */
    public static final double TOLERANCE = 1e-3;

    private static final double RELATIVE_TOLERANCE = 1e-9;

    private static final String FINAL_OPEN = "final answer is $";
    private static final String FINAL_CLOSE = "$. I hope";
    private static final String[] BOX_MACROS = {"\\boxed", "\\fbox"};
    private static final String ANSWER_IS = "he answer is";
    private static final String OUTPUT_BLOCK = "```output";
    private static final String FENCE = "```";

    private static final Pattern LAST_NUMBER =
            Pattern.compile("-?(?:\\d{1,3}(?:,\\d{3})+(?!\\d)|\\d+)(?:\\.\\d+)?|-?\\.\\d+");
    private static final Pattern SENTENCE_END = Pattern.compile("\\.\\s");
    private static final Pattern TRAILING_ZEROS = Pattern.compile("(\\d)\\.0+(?!\\d)");
    private static final Pattern SET_MEMBER_PREFIX = Pattern.compile("^[A-Za-z]\\s*\\\\in(?![A-Za-z])\\s*");
    private static final Pattern UNIT_POWER = Pattern.compile("\\s*(?:\\^\\{?[23]\\}?)?\\s*");
    private static final Pattern SQRT_TOKEN = Pattern.compile("\\\\sqrt\\s*(\\d|[A-Za-z])");
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");
    private static final Pattern TRAILING_PUNCTUATION = Pattern.compile("[\\\\,.]+$");
    private static final String SLASH_PART = "(\\d+|\\d*\\\\sqrt\\{\\d+\\})";
    private static final Pattern SLASH_FRACTION = Pattern.compile("(-?)" + SLASH_PART + "/" + SLASH_PART);
    private static final String[] TEXT_MACROS = {"\\text", "\\textbf", "\\mbox", "\\mathrm"};
    private static final String[] UNIT_MACROS = {"\\text", "\\mbox"};

    private static final String DECIMAL = "[-+]?(?:\\d{1,3}(?:,\\d{3})+(?:\\.\\d+)?|\\d+(?:\\.\\d*)?|\\.\\d+)";
    private static final Pattern NUMBER = Pattern.compile(DECIMAL);
    private static final Pattern FRAC =
            Pattern.compile("([-+]?)\\\\frac\\{(" + DECIMAL + ")\\}\\{(" + DECIMAL + ")\\}");
    private static final Pattern SLASH = Pattern.compile("(" + DECIMAL + ")/(" + DECIMAL + ")");

    private MathAnswers() {}

    /** The response's final answer by the first form of the class description that yields one; empty if none. */
    public static Optional<String> extract(String response) {
        if (response == null) throw new IllegalArgumentException("response must not be null");
        Optional<String> a = clean(finalAnswerIs(response));
        if (a.isEmpty()) a = clean(lastBoxed(response).orElse(null));
        if (a.isEmpty()) a = clean(answerIs(response));
        if (a.isEmpty()) a = clean(outputBlock(response));
        if (a.isEmpty()) a = clean(lastNumber(response));
        return a;
    }

    /**
     * The content of the last complete {@code \boxed{…}} or {@code \fbox{…}} in {@code text} (braces matched with
     * nesting; an unclosed box is skipped), or the token after {@code "\boxed "} up to whitespace or {@code $} when
     * no brace follows; empty when there is none. Used for a MATH solution's gold answer.
     */
    public static Optional<String> lastBoxed(String text) {
        if (text == null) throw new IllegalArgumentException("text must not be null");
        String best = null;
        int bestAt = -1;
        for (String macro : BOX_MACROS) {
            for (int at = text.lastIndexOf(macro); at > bestAt; at = text.lastIndexOf(macro, at - 1)) {
                String content = boxContent(text, at + macro.length());
                if (content != null) {
                    best = content;
                    bestAt = at;
                    break;
                }
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * The Hendrycks MATH {@code strip_string} normalization, with the VinePPO additions: linebreaks, {@code \!},
     * {@code \left}, {@code \right}, degree marks ({@code ^{\circ}}, {@code ^\circ}, {@code °}), dollar signs
     * ({@code \$}, {@code $}) and all whitespace removed; {@code \\} to {@code \}; {@code tfrac}, {@code dfrac},
     * {@code cfrac} to {@code frac}; {@code {,}} to {@code ,}; the Unicode minus to {@code -}; a whole
     * {@code \text{…}} (also {@code \textbf}, {@code \mbox}, {@code \mathrm}) unwrapped; a trailing unit
     * {@code \text{…}} or {@code \mbox{…}} (optionally squared or cubed) removed when something precedes it;
     * {@code \%} to {@code %}; a leading {@code "x \in"} removed; {@code " ."} to {@code " 0."}, <code>"&#123;."</code> to
     * <code>"&#123;0."</code> and a leading {@code "."} to {@code "0."}; trailing zero decimals dropped ({@code 5.00} to
     * {@code 5}, {@code 2.50} kept); the left side of a single {@code =} dropped when it has at most two
     * characters ({@code x = 5} to {@code 5}); {@code \sqrt3} to {@code \sqrt{3}}; {@code \frac12} to
     * {@code \frac{1}{2}} (each unbraced argument is one character or control word); a whole {@code a/b} of integers
     * (or {@code \sqrt{n}} terms) to {@code \frac{a}{b}}; trailing backslashes, commas and periods removed. Unlike
     * Hendrycks, {@code 0.5} is kept as it is (numbers compare by value in {@link #isEquivalent}).
     */
    public static String normalize(String answer) {
        if (answer == null) throw new IllegalArgumentException("answer must not be null");
        String s = answer.strip().replace("\r", "").replace("\n", "");
        s = s.replace('\u2212', '-');
        s = s.replace("\\!", "");
        s = s.replace("\\\\", "\\");
        s = s.replace("tfrac", "frac").replace("dfrac", "frac").replace("cfrac", "frac");
        s = s.replace("\\left", "").replace("\\right", "");
        s = s.replace("^{\\circ}", "").replace("^\\circ", "").replace("\u00b0", "");
        s = s.replace("\\$", "").replace("$", "");
        s = s.replace("{,}", ",");
        s = unwrapText(s.strip());
        s = removeUnit(s);
        s = s.replace("\\%", "%");
        s = SET_MEMBER_PREFIX.matcher(s).replaceFirst("");
        s = s.replace(" .", " 0.").replace("{.", "{0.");
        s = TRAILING_ZEROS.matcher(s).replaceAll("$1");
        s = s.strip();
        if (s.startsWith(".")) s = "0" + s;
        s = dropShortLeftSide(s);
        s = SQRT_TOKEN.matcher(s).replaceAll(m -> Matcher.quoteReplacement("\\sqrt{" + m.group(1) + "}"));
        s = WHITESPACE.matcher(s).replaceAll("");
        s = fixFracs(s);
        Matcher slash = SLASH_FRACTION.matcher(s);
        if (slash.matches()) s = slash.group(1) + "\\frac{" + slash.group(2) + "}{" + slash.group(3) + "}";
        return TRAILING_PUNCTUATION.matcher(s).replaceAll("");
    }

    /**
     * Whether {@code predicted} and {@code gold} are the same answer, as the class description defines; an answer
     * that normalizes to nothing is never equivalent.
     */
    public static boolean isEquivalent(String predicted, String gold) {
        if (predicted == null) throw new IllegalArgumentException("predicted must not be null");
        if (gold == null) throw new IllegalArgumentException("gold must not be null");
        String p = normalize(predicted), g = normalize(gold);
        return !p.isEmpty() && !g.isEmpty() && equivalentNormalized(p, g);
    }

    /**
     * 1 when the response finished and its {@link #extract extracted} answer is {@link #isEquivalent equivalent} to
     * {@code gold}; 0 when it is wrong, has no answer, or was cut at the length limit.
     */
    public static double reward(String response, String gold, FinishReason finishReason) {
        if (response == null) throw new IllegalArgumentException("response must not be null");
        if (gold == null) throw new IllegalArgumentException("gold must not be null");
        if (finishReason == null) throw new IllegalArgumentException("finishReason must not be null");
        if (!finishReason.finished()) return 0.0;
        Optional<String> a = extract(response);
        return a.isPresent() && isEquivalent(a.get(), gold) ? 1.0 : 0.0;
    }

    private static Optional<String> clean(String raw) {
        if (raw == null) return Optional.empty();
        int from = 0, to = raw.length();
        while (from < to && (raw.charAt(from) == ':' || Character.isWhitespace(raw.charAt(from)))) from++;
        while (to > from
                && (raw.charAt(to - 1) == '.'
                        || raw.charAt(to - 1) == '/'
                        || Character.isWhitespace(raw.charAt(to - 1)))) {
            to--;
        }
        return from == to ? Optional.empty() : Optional.of(raw.substring(from, to));
    }

    private static String finalAnswerIs(String response) {
        int close = response.lastIndexOf(FINAL_CLOSE);
        if (close < FINAL_OPEN.length()) return null;
        int open = response.lastIndexOf(FINAL_OPEN, close - FINAL_OPEN.length());
        if (open < 0) return null;
        int from = open + FINAL_OPEN.length();
        return response.substring(from, response.indexOf(FINAL_CLOSE, from));
    }

    /** The box's content starting at {@code at} (just after the macro name), or null when it is not a box. */
    private static String boxContent(String text, int at) {
        int j = at;
        while (j < text.length() && Character.isWhitespace(text.charAt(j))) j++;
        if (j < text.length() && text.charAt(j) == '{') {
            int close = matchingBrace(text, j);
            return close < 0 ? null : text.substring(j + 1, close);
        }
        if (j == at) return null;
        int end = j;
        while (end < text.length() && !Character.isWhitespace(text.charAt(end)) && text.charAt(end) != '$') end++;
        return end == j ? null : text.substring(j, end);
    }

    /** The index of the brace closing the one at {@code open}, or -1. */
    private static int matchingBrace(String s, int open) {
        int depth = 0;
        for (int k = open; k < s.length(); k++) {
            char c = s.charAt(k);
            if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                return k;
            }
        }
        return -1;
    }

    private static String answerIs(String response) {
        int at = response.lastIndexOf(ANSWER_IS);
        if (at < 0) return null;
        String rest = firstLine(response.substring(at + ANSWER_IS.length()).strip());
        Matcher end = SENTENCE_END.matcher(rest);
        return end.find() ? rest.substring(0, end.start()) : rest;
    }

    private static String outputBlock(String response) {
        int at = response.lastIndexOf(OUTPUT_BLOCK);
        if (at < 0) return null;
        String rest = response.substring(at + OUTPUT_BLOCK.length());
        int end = rest.indexOf(FENCE);
        return firstLine((end < 0 ? rest : rest.substring(0, end)).strip());
    }

    private static String lastNumber(String response) {
        Matcher m = LAST_NUMBER.matcher(response);
        String last = null;
        while (m.find()) last = m.group();
        return last == null ? null : last.replace(",", "");
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static String unwrapText(String s) {
        for (String macro : TEXT_MACROS) {
            if (s.startsWith(macro + "{") && matchingBrace(s, macro.length()) == s.length() - 1) {
                return s.substring(macro.length() + 1, s.length() - 1).strip();
            }
        }
        return s;
    }

    private static String removeUnit(String s) {
        for (String macro : UNIT_MACROS) {
            int at = s.lastIndexOf(macro + "{");
            if (at <= 0) continue;
            int close = matchingBrace(s, at + macro.length());
            if (close < 0 || !UNIT_POWER.matcher(s.substring(close + 1)).matches()) continue;
            String before = s.substring(0, at).strip();
            if (!before.isEmpty()) return before;
        }
        return s;
    }

    private static String dropShortLeftSide(String s) {
        int eq = s.indexOf('=');
        if (eq < 0 || s.indexOf('=', eq + 1) >= 0 || s.substring(0, eq).strip().length() > 2) return s;
        return s.substring(eq + 1).strip();
    }

    /** Braces each unbraced {@code \frac} argument (one character or control word), inside groups too. */
    private static String fixFracs(String s) {
        StringBuilder out = new StringBuilder(s.length() + 8);
        int i = 0;
        while (true) {
            int at = s.indexOf("\\frac", i);
            if (at < 0) {
                out.append(s, i, s.length());
                return out.toString();
            }
            out.append(s, i, at + 5);
            int j = at + 5;
            for (int arg = 0; arg < 2 && j < s.length(); arg++) {
                char c = s.charAt(j);
                if (c == '{') {
                    int close = matchingBrace(s, j);
                    if (close < 0) break;
                    out.append('{').append(fixFracs(s.substring(j + 1, close))).append('}');
                    j = close + 1;
                } else if (c == '}') {
                    break;
                } else {
                    int end = tokenEnd(s, j);
                    out.append('{').append(s, j, end).append('}');
                    j = end;
                }
            }
            i = j;
        }
    }

    private static int tokenEnd(String s, int at) {
        if (s.charAt(at) != '\\') return at + Character.charCount(s.codePointAt(at));
        int end = at + 1;
        while (end < s.length() && Character.isLetter(s.charAt(end))) end++;
        return end == at + 1 && end < s.length() ? end + 1 : end;
    }

    private static boolean equivalentNormalized(String p, String g) {
        if (p.equals(g)) return true;
        Double a = number(p), b = number(g);
        if (a != null && b != null) {
            boolean pp = p.endsWith("%"), gp = g.endsWith("%");
            if (pp == gp) return close(a, b);
            double percent = pp ? a : b, plain = pp ? b : a;
            return close(percent, plain) || close(percent / 100, plain);
        }
        return tupleEquivalent(p, g);
    }

    /** The value of a normalized number, a percentage's without the {@code %}; null when it is not one. */
    private static Double number(String s) {
        String t = s.endsWith("%") ? s.substring(0, s.length() - 1) : s;
        if (NUMBER.matcher(t).matches()) return decimal(t);
        Matcher f = FRAC.matcher(t);
        if (f.matches()) {
            double v = decimal(f.group(2)) / decimal(f.group(3));
            return f.group(1).equals("-") ? -v : v;
        }
        Matcher sl = SLASH.matcher(t);
        if (sl.matches()) return decimal(sl.group(1)) / decimal(sl.group(2));
        return null;
    }

    private static double decimal(String s) {
        return Double.parseDouble(s.replace(",", ""));
    }

    private static boolean close(double a, double b) {
        return Math.abs(a - b) <= Math.max(TOLERANCE, RELATIVE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b)));
    }

    private static boolean tupleEquivalent(String p, String g) {
        if (p.length() < 2 || g.length() < 2) return false;
        char open = p.charAt(0), closing = p.charAt(p.length() - 1);
        if ((open != '(' && open != '[') || (closing != ')' && closing != ']')) return false;
        if (g.charAt(0) != open || g.charAt(g.length() - 1) != closing) return false;
        List<String> ps = topLevelParts(p.substring(1, p.length() - 1));
        List<String> gs = topLevelParts(g.substring(1, g.length() - 1));
        if (ps == null || gs == null || ps.size() != gs.size()) return false;
        for (int i = 0; i < ps.size(); i++) {
            if (ps.get(i).isEmpty() || gs.get(i).isEmpty() || !equivalentNormalized(ps.get(i), gs.get(i))) return false;
        }
        return true;
    }

    /** The comma-separated parts outside any bracket, or null when the brackets do not balance. */
    private static List<String> topLevelParts(String s) {
        List<String> parts = new ArrayList<>();
        int depth = 0, from = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                if (--depth < 0) return null;
            } else if (c == ',' && depth == 0) {
                parts.add(s.substring(from, i));
                from = i + 1;
            }
        }
        if (depth != 0) return null;
        parts.add(s.substring(from));
        return parts;
    }
}
