/**
 * Model files: the safetensors format ({@link io.github.spo4j.model.io.SafeTensors}: one file or a sharded
 * Hugging Face directory, fp32 / bf16 / fp16 read as fp32, fp32 / bf16 written atomically) and the shared
 * atomic-write helper. Bad files raise an {@link java.io.IOException} subclass of this package that names the
 * file and the tensor or field.
 */
package io.github.spo4j.model.io;
