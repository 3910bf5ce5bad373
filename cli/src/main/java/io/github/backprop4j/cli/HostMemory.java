package io.github.backprop4j.cli;

/**
 * The Java heap as a budget: readers ask before they allocate what a file's header or size implies,
 * so a file too large for the heap is a one-line error naming it, not an OutOfMemoryError.
 */
final class HostMemory {

    /** Environment variable whose contents the launcher passes to java (e.g. -Xmx16g). */
    static final String JAVA_OPTS = "BACKPROP4J_JAVA_OPTS";

    private HostMemory() {
    }

    /** Bytes the heap can still grow by: its maximum less what is in use (garbage included, so an underestimate). */
    static long available() {
        Runtime r = Runtime.getRuntime();
        return r.maxMemory() - (r.totalMemory() - r.freeMemory());
    }

    /** Throws a {@link CliException} naming {@code what} when {@code bytes} more would not fit in the heap. */
    static void require(long bytes, String what) {
        if (bytes <= available()) return;
        System.gc();   // rare: only when the estimate says no; a collection may free enough
        long free = available();
        if (bytes <= free) return;
        throw new CliException(what + " needs " + mib(bytes) + " of Java heap but only " + mib(free) + " of its "
                + mib(Runtime.getRuntime().maxMemory()) + " are free; give java a larger heap, e.g. " + JAVA_OPTS
                + "=-Xmx" + Math.max(2, (bytes * 2 >> 30) + 1) + "g");
    }

    static String mib(long bytes) {
        return bytes >= 10L << 30 ? (bytes >> 30) + " GiB" : (bytes + (1 << 20) - 1 >> 20) + " MiB";
    }
}
