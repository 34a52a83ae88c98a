package io.github.spo4j.testutil;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The comparison forgives how a number is printed, and nothing else. */
class MessageParityTest {

    @Test
    void numbersMayDifferInFormatOnly() {
        MessageParity.assertSameUpToNumberFormat(
                "weight[1] = 0.0 must be finite and > 0", "weight[1] = 0 must be finite and > 0");
        MessageParity.assertSameUpToNumberFormat(
                "epsLow must be in [0, 1), got NaN", "epsLow must be in [0, 1), got nan");
        MessageParity.assertSameUpToNumberFormat("got -Infinity and 1.0E-8", "got -inf and 1e-08");
        MessageParity.assertSameUpToNumberFormat(
                "logits[0, 2] = 1.0E10 (F32, int32)", "logits[0, 2] = 1e+10 (F32, int32)");
    }

    @Test
    void anyOtherDifferenceFails() {
        assertThrows(
                AssertionError.class,
                () -> MessageParity.assertSameUpToNumberFormat(
                        "numRows must be >= 0, got -1", "B must be >= 0, got -1"));
        assertThrows(
                AssertionError.class,
                () -> MessageParity.assertSameUpToNumberFormat("x[1] is not finite", "x[2] is not finite"));
        assertThrows(AssertionError.class, () -> MessageParity.assertSameUpToNumberFormat("got 0.1", "got 0.2"));
        assertThrows(AssertionError.class, () -> MessageParity.assertSameUpToNumberFormat("got NaN", "got inf"));
        assertThrows(AssertionError.class, () -> MessageParity.assertSameUpToNumberFormat("got 1, 2", "got 1"));
        assertThrows(AssertionError.class, () -> MessageParity.assertSameUpToNumberFormat("got I32", "got 2"));
    }
}
