/** The JavaCPP config that {@code Spo4jNative} is generated from (the javacpp-presets {@code presets} package). */
package io.github.spo4j.kernels.nativebind.presets;
