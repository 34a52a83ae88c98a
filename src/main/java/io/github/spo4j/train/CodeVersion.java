package io.github.spo4j.train;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * A fingerprint of the spo4j code this process runs, so the ranks of a data-parallel run can refuse to train with
 * different builds: SHA-256 of the spo4j jar, or of the class files when running from a classes directory.
 */
final class CodeVersion {
    private static String fingerprint;

    private CodeVersion() {}

    static synchronized String fingerprint() {
        if (fingerprint == null) fingerprint = compute();
        return fingerprint;
    }

    private static String compute() {
        try {
            Path where = Path.of(CodeVersion.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI());
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            List<Path> files;
            if (Files.isDirectory(where)) {
                try (Stream<Path> walk = Files.walk(where)) {
                    files = walk.filter(p -> p.toString().endsWith(".class"))
                            .sorted()
                            .toList();
                }
            } else {
                files = List.of(where);
            }
            byte[] buf = new byte[1 << 16];
            for (Path f : files) {
                md.update(where.relativize(f).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                try (InputStream in = Files.newInputStream(f)) {
                    for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the spo4j code to fingerprint it", e);
        } catch (URISyntaxException | NoSuchAlgorithmException | SecurityException | NullPointerException e) {
            throw new IllegalStateException("cannot locate the spo4j code to fingerprint it", e);
        }
    }
}
