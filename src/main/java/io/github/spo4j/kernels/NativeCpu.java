package io.github.spo4j.kernels;

import io.github.spo4j.kernels.engine.Checks;
import io.github.spo4j.kernels.engine.NativeLibrary;
import io.github.spo4j.kernels.nativebind.Spo4jNative;

/**
 * Settings of the native CPU kernels: their worker threads and the widest instruction set they may use. Results
 * do not depend on either (the kernels' reductions are ordered the same way whatever the thread count).
 */
public final class NativeCpu {
    /** Instruction sets of the kernels that have per-ISA variants (today: prefix attention). */
    public enum Isa {
        BASELINE(Spo4jNative.SPO4J_ISA_BASELINE),
        AVX2(Spo4jNative.SPO4J_ISA_AVX2),
        AVX512(Spo4jNative.SPO4J_ISA_AVX512);

        private final int code;

        Isa(int code) {
            this.code = code;
        }

        static Isa of(int code) {
            for (Isa isa : values()) if (isa.code == code) return isa;
            throw new IllegalStateException("unknown ISA code " + code);
        }
    }

    private NativeCpu() {}

    /** Sets the CPU kernels' worker threads (default: the hardware's). */
    public static void setThreads(int threads) {
        Checks.require(threads >= 1, "threads must be >= 1, got " + threads);
        NativeLibrary.check(Spo4jNative.spo4j_set_num_threads(threads));
    }

    /** The CPU kernels' worker threads. */
    public static int threads() {
        return Spo4jNative.spo4j_get_num_threads();
    }

    /**
     * Caps the instruction set of the kernels that have per-ISA variants; they use the best one the CPU has up to
     * {@code max}. Lowering it lets one machine run every variant (the default is {@link Isa#AVX512}).
     */
    public static void setMaxIsa(Isa max) {
        Checks.notNull(max, "max");
        NativeLibrary.check(Spo4jNative.spo4j_set_max_cpu_isa(max.code));
    }

    /** The instruction set in use. */
    public static Isa isa() {
        return Isa.of(Spo4jNative.spo4j_cpu_isa());
    }
}
