package io.github.spo4j.kernels.nativebind;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.spo4j.kernels.DType;
import io.github.spo4j.kernels.NativeCpu;
import io.github.spo4j.kernels.loss.Aggregation;
import io.github.spo4j.kernels.loss.KlEstimator;
import io.github.spo4j.kernels.tree.TreeAdvantageMode;
import io.github.spo4j.kernels.tree.TreeValueMode;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Java enums that cross the native boundary carry exactly the header's codes: one value per code of their
 * {@code SPO4J_*} group, named as in the header, with the generated constant's value.
 */
class NativeContractTest {

    static Stream<Arguments> codedEnums() {
        return Stream.of(
                Arguments.of(DType.class, "SPO4J_DTYPE_"),
                Arguments.of(TreeValueMode.class, "SPO4J_TREE_VALUE_"),
                Arguments.of(TreeAdvantageMode.class, "SPO4J_TREE_ADV_"),
                Arguments.of(KlEstimator.class, "SPO4J_KL_"),
                Arguments.of(Aggregation.class, "SPO4J_AGG_"),
                Arguments.of(NativeCpu.Isa.class, "SPO4J_ISA_"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("codedEnums")
    void everyEnumValueIsTheHeaderCodeOfItsName(Class<? extends Enum<?>> type, String prefix) throws Exception {
        Field code = type.getDeclaredField("code");
        code.setAccessible(true);
        Map<String, Integer> java = new TreeMap<>();
        for (Enum<?> e : type.getEnumConstants()) java.put(prefix + e.name(), code.getInt(e));
        assertEquals(headerConstants(prefix), java);
    }

    @Test
    void theLibraryImplementsTheHeadersVersion() {
        assertEquals(Spo4jNative.SPO4J_API_VERSION, Spo4jNative.spo4j_api_version());
    }

    /** The generated {@code public static final int} constants whose names start with {@code prefix}. */
    static Map<String, Integer> headerConstants(String prefix) throws IllegalAccessException {
        Map<String, Integer> constants = new TreeMap<>();
        for (Field f : Spo4jNative.class.getFields()) {
            int m = f.getModifiers();
            if (Modifier.isStatic(m)
                    && Modifier.isFinal(m)
                    && f.getType() == int.class
                    && f.getName().startsWith(prefix)) {
                constants.put(f.getName(), f.getInt(null));
            }
        }
        return constants;
    }
}
