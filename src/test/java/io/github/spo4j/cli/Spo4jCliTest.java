package io.github.spo4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class Spo4jCliTest {
    @Test
    void theCommandLineTurnsJavaCppsMemoryCheckOffUnlessTheUserSetIt() {
        String before = System.getProperty(Spo4jCli.MAX_PHYSICAL_BYTES);
        try {
            System.clearProperty(Spo4jCli.MAX_PHYSICAL_BYTES);
            Spo4jCli.turnOffPhysicalMemoryCheck();
            assertEquals("0", System.getProperty(Spo4jCli.MAX_PHYSICAL_BYTES));

            System.setProperty(Spo4jCli.MAX_PHYSICAL_BYTES, "8g");
            Spo4jCli.turnOffPhysicalMemoryCheck();
            assertEquals("8g", System.getProperty(Spo4jCli.MAX_PHYSICAL_BYTES));
        } finally {
            if (before == null) System.clearProperty(Spo4jCli.MAX_PHYSICAL_BYTES);
            else System.setProperty(Spo4jCli.MAX_PHYSICAL_BYTES, before);
        }
    }
}
