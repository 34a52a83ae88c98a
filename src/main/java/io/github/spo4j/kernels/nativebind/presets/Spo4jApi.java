package io.github.spo4j.kernels.nativebind.presets;

import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.tools.Info;
import org.bytedeco.javacpp.tools.InfoMap;
import org.bytedeco.javacpp.tools.InfoMapper;

/**
 * The JavaCPP config of the binding: the JavaCPP parser reads {@code spo4j_api.h} with these rules and writes
 * {@code io.github.spo4j.kernels.nativebind.Spo4jNative} (under {@code src/gen/java}, on every build), so the
 * functions, the struct and every status, device, dtype and mode code come from the header alone.
 */
@Properties(
        target = "io.github.spo4j.kernels.nativebind.Spo4jNative",
        value = @Platform(include = "spo4j_api.h", link = "spo4j", compiler = "cpp17"))
public class Spo4jApi implements InfoMapper {
    @Override
    public void map(InfoMap infoMap) {
        infoMap.put(new Info("SPO4J_EXPORT").cppTypes().annotations()) // visibility attribute, not a type
                .put(new Info("spo4j_policy_loss_config").pointerTypes("PolicyLossConfigStruct"));
        // JavaCPP pointers only (the defaults add NIO-buffer and array overloads of every function with pointers):
        // the facades pass off-heap memory (an array argument would be copied on every call), and a null
        // argument stays unambiguous.
        infoMap.put(new Info("int", "int32_t").valueTypes("int").pointerTypes("IntPointer"))
                .put(new Info("uint32_t").cast().valueTypes("int").pointerTypes("IntPointer"))
                .put(new Info("int64_t", "uint64_t").cast().valueTypes("long").pointerTypes("LongPointer"))
                .put(new Info("uint8_t").cast().valueTypes("byte").pointerTypes("BytePointer"))
                .put(new Info("float").valueTypes("float").pointerTypes("FloatPointer"))
                .put(new Info("double").valueTypes("double").pointerTypes("DoublePointer"));
    }
}
