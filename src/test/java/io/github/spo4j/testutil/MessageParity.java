package io.github.spo4j.testutil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.spo4j.kernels.nativebind.Spo4jNative;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.function.Executable;

/**
 * Where Java and the native library both check an input, one bad input gets one message: the Java check's
 * IllegalArgumentException and the native entry's status and {@code spo4j_last_error}, called directly (past
 * the Java check), must read the same. Numbers may differ only in how they are printed (Java's
 * {@code Float.toString} against C's {@code %g}: "0.0" and "0", "NaN" and "nan", "1.0E-8" and "1e-08").
 */
public final class MessageParity {
    // A number standing alone (not the digits of a name such as F32 or int32), as Java or C prints it.
    private static final Pattern NUMBER =
            Pattern.compile("(?<![\\w.^])-?(?:NaN|nan|Infinity|inf|\\d+(?:\\.\\d*)?(?:[eE][-+]?\\d+)?)(?![\\w])");

    private MessageParity() {}

    /** The message of {@code javaCheck}'s IllegalArgumentException and that of the native call agree. */
    public static void assertSameMessage(Executable javaCheck, IntSupplier nativeCall) {
        String java = assertThrows(IllegalArgumentException.class, javaCheck, "the Java check")
                .getMessage();
        int status = nativeCall.getAsInt();
        String c = Spo4jNative.spo4j_last_error().getString();
        assertEquals(
                Spo4jNative.SPO4J_ERR_INVALID_ARGUMENT,
                status,
                "native status (Java said: " + java + "; C: " + c + ")");
        assertSameUpToNumberFormat(java, c);
    }

    static void assertSameUpToNumberFormat(String java, String c) {
        List<Double> javaNumbers = new ArrayList<>(), cNumbers = new ArrayList<>();
        String javaText = strip(java, javaNumbers), cText = strip(c, cNumbers);
        boolean same = javaText.equals(cText) && javaNumbers.size() == cNumbers.size();
        for (int i = 0; same && i < javaNumbers.size(); i++) same = close(javaNumbers.get(i), cNumbers.get(i));
        if (!same) fail("Java and C messages differ:\n  Java: " + java + "\n  C:    " + c);
    }

    private static String strip(String message, List<Double> numbers) {
        Matcher m = NUMBER.matcher(message);
        StringBuilder text = new StringBuilder();
        while (m.find()) {
            numbers.add(parse(m.group()));
            m.appendReplacement(text, "#");
        }
        m.appendTail(text);
        return text.toString();
    }

    private static double parse(String number) {
        return switch (number) {
            case "nan", "NaN", "-nan", "-NaN" -> Double.NaN;
            case "inf", "Infinity" -> Double.POSITIVE_INFINITY;
            case "-inf", "-Infinity" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(number);
        };
    }

    // %g keeps 6 significant digits.
    private static boolean close(double a, double b) {
        if (Double.isNaN(a) || Double.isNaN(b) || Double.isInfinite(a) || Double.isInfinite(b)) {
            return Double.compare(a, b) == 0 || (Double.isNaN(a) && Double.isNaN(b));
        }
        return Math.abs(a - b) <= 1e-5 * Math.max(Math.abs(a), Math.abs(b));
    }
}
