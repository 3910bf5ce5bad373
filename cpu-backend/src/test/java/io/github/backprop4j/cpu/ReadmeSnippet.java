package io.github.backprop4j.cpu;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Keeps the README's Java examples equal to the tests that run them: the lines of a test source
 * between {@value #BEGIN} and {@value #END} (dedented) must be the last lines of the README's ```java
 * block under the marker {@code <!-- example: MODULE/src/test/java/.../Test.java -->} (the block may
 * start with imports the test does not repeat).
 */
final class ReadmeSnippet {

    static final String BEGIN = "// README-BEGIN";
    static final String END = "// README-END";

    private ReadmeSnippet() {
    }

    /** {@code source} is relative to this module, e.g. src/test/java/io/github/backprop4j/cpu/ReadmeExampleTest.java. */
    static void assertReadmeShows(String source) throws IOException {
        Path file = Path.of(source), readme = Path.of("../README.md");
        Assumptions.assumeTrue(Files.isRegularFile(file) && Files.isRegularFile(readme),
                "sources not at hand (tests run from packed classes)");
        List<String> snippet = between(Files.readAllLines(file));
        List<String> lines = Files.readAllLines(readme);
        int marker = lines.indexOf("<!-- example: " + source.replace("src/", "cpu-backend/src/") + " -->");
        assertTrue(marker >= 0, "README.md lost the example marker for " + source);
        List<String> block = new ArrayList<>();
        int i = marker + 1;
        while (!lines.get(i).startsWith("```java")) i++;
        for (i++; !lines.get(i).startsWith("```"); i++) block.add(lines.get(i));
        assertTrue(block.size() >= snippet.size(), "README.md's example is shorter than " + source + "'s");
        assertEquals(String.join("\n", snippet), String.join("\n", block.subList(block.size() - snippet.size(),
                block.size())), "README.md's example differs from " + file.getFileName() + ": copy the lines between "
                + BEGIN + " and " + END + " (dedented) into the README");
    }

    /** Lines strictly between the markers, dedented by the first line's indentation. */
    private static List<String> between(List<String> all) {
        int from = -1, to = -1;
        for (int i = 0; i < all.size(); i++) {
            String t = all.get(i).trim();
            if (t.equals(BEGIN) && from < 0) from = i + 1;
            else if (t.equals(END) && from >= 0) {
                to = i;
                break;
            }
        }
        List<String> body = all.subList(from, to);
        int indent = body.getFirst().length() - body.getFirst().stripLeading().length();
        List<String> out = new ArrayList<>();
        for (String l : body) out.add(l.isBlank() ? "" : l.substring(Math.min(indent, l.length() - l.stripLeading().length())));
        return out;
    }
}
