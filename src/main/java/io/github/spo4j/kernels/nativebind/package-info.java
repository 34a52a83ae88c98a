/** The JavaCPP binding of the flat C API {@code spo4j_api.h}; used only by the kernel facades. */
package io.github.spo4j.kernels.nativebind;
