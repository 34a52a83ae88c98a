/**
 * The JavaCPP binding of the flat C API {@code spo4j_api.h}: {@link io.github.spo4j.kernels.nativebind.Spo4jNative},
 * generated from the header on every build (source in {@code src/gen/java}, config in {@code presets}); used only
 * by the kernel layer.
 */
package io.github.spo4j.kernels.nativebind;
