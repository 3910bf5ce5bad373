package io.github.backprop4j.core.spi;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Keeps the JVM's own signal handlers in place around native GPU/OpenCL drivers that replace them.
 *
 * <p>The JVM handles some signals itself: SIGSEGV and SIGBUS for implicit null checks and safepoint
 * polls in compiled code, SIGFPE for integer division, SIGUSR2 to suspend threads, SIGTERM/SIGINT/SIGHUP
 * for shutdown hooks, SIGQUIT for thread dumps. A driver that installs handlers of its own takes
 * those over: PoCL's LLVM registers a crash handler for all of them (with {@code SA_RESETHAND}) the
 * first time it is used, and PoCL one for SIGFPE. The JVM then survives such a signal only while one
 * thread at a time takes it; when several threads trap together (every running thread reaches a
 * safepoint poll at once), the second one finds the default action and the process dies with exit
 * code 139 and no hs_err file. Seen here with {@code train --backend cpu} on a machine with PoCL,
 * since choosing a backend probes OpenCL.
 *
 * <p>A device calls {@link #snapshot()} before its first native driver call and {@link #restore()}
 * after each call that may load or initialize driver code (platform enumeration, context creation,
 * program builds, kernel launches: PoCL compiles lazily at the first launch). Restoring puts back the
 * handlers the JVM had; the driver's crash reporting is lost, which costs nothing here. Where the JVM
 * runs with {@code libjsig} preloaded ({@code LD_PRELOAD=$JAVA_HOME/lib/libjsig.so}, as the launcher
 * does) the JVM's handlers stay first anyway and the driver's are chained behind them; this class then
 * finds nothing to restore.
 *
 * <p>Linux only (glibc's {@code sigaction}); elsewhere every method does nothing.
 */
public final class JvmSignalHandlers {

    /** The signals the JVM or a driver's crash handler may hold: HUP … SYS by their Linux numbers. */
    private static final int[] SIGNALS = {1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 15, 24, 25, 31};
    private static final String[] NAMES = {"SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS",
            "SIGFPE", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGTERM", "SIGXCPU", "SIGXFSZ", "SIGSYS"};
    private static final int SIGFPE_INDEX = 7;
    private static final int SIGSEGV_INDEX = 8;
    /** glibc's struct sigaction is 152 bytes on x86-64 and aarch64; room to spare. */
    private static final long SIGACTION_BYTES = 256;
    private static final int SA_RESTORER = 0x04000000;

    private static final boolean LINUX = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
    /**
     * With libjsig preloaded the JVM's handlers stay first by themselves, and {@code sigaction} answers
     * with the chained (application) handlers instead: there is nothing to snapshot or restore. Checked
     * before anything else, so that such a JVM never builds the downcall (about 45 ms in a fresh JVM).
     */
    private static final boolean LIBJSIG = LINUX && mapped("/libjsig.so");
    private static volatile MemorySegment saved; // SIGNALS.length actions, as the JVM had them; null until snapshot
    private static final java.util.Set<String> everRestored = new java.util.LinkedHashSet<>();

    private JvmSignalHandlers() {
    }

    /** The downcall and its buffers, built on the first {@link #snapshot()} that needs them. */
    private static final class Native {
        static final MethodHandle SIGACTION = lookupSigaction();
        static final Arena ARENA = Arena.ofAuto();
        static final MemorySegment CURRENT = SIGACTION == null ? null : ARENA.allocate(SIGACTION_BYTES, 8);
    }

    private static MethodHandle lookupSigaction() {
        if (!LINUX) return null;
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("sigaction").map(s -> linker.downcallHandle(s,
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS))).orElse(null);
        } catch (RuntimeException | LinkageError e) {
            return null;   // no native access: nothing can be protected (and no driver can be loaded either)
        }
    }

    /**
     * Records the current handlers as the JVM's, once: the first call wins. Call it before the first
     * native call into a driver that may replace them.
     */
    public static synchronized void snapshot() {
        if (saved != null || LIBJSIG || Native.SIGACTION == null) return;
        MemorySegment all = Native.ARENA.allocate(SIGACTION_BYTES * SIGNALS.length, 8);
        for (int i = 0; i < SIGNALS.length; i++) query(SIGNALS[i], all.asSlice(i * SIGACTION_BYTES, SIGACTION_BYTES));
        saved = all;
    }

    /**
     * Puts back every handler that changed since {@link #snapshot()}. Two system calls when nothing
     * changed: LLVM replaces SIGSEGV's handler together with the others, PoCL SIGFPE's on its own.
     *
     * @return the names of the signals whose handlers were put back; empty when none had changed
     */
    public static List<String> restore() {
        if (saved == null) return List.of();
        synchronized (JvmSignalHandlers.class) {
            MemorySegment current = Native.CURRENT;
            query(SIGNALS[SIGSEGV_INDEX], current);
            boolean segv = sameHandler(current, SIGSEGV_INDEX);
            query(SIGNALS[SIGFPE_INDEX], current);
            if (segv && sameHandler(current, SIGFPE_INDEX)) return List.of();
            List<String> restored = new ArrayList<>();
            for (int i = 0; i < SIGNALS.length; i++) {
                query(SIGNALS[i], current);
                if (sameHandler(current, i)) continue;
                call(SIGNALS[i], saved.asSlice(i * SIGACTION_BYTES, SIGACTION_BYTES), MemorySegment.NULL);
                restored.add(NAMES[i]);
            }
            if (!restored.isEmpty() && everRestored.isEmpty()) {
                System.getLogger("backprop4j").log(System.Logger.Level.INFO, "a native driver replaced the JVM's "
                        + "handlers for " + String.join(", ", restored) + " (PoCL's LLVM does); restored them. "
                        + "LD_PRELOAD=" + Path.of(System.getProperty("java.home"), "lib", "libjsig.so")
                        + " keeps them in place from the start");
            }
            everRestored.addAll(restored);
            return restored;
        }
    }

    /**
     * Every signal whose handler was put back so far in this JVM, for diagnostics.
     *
     * @return the signal names, in the order they were first restored
     */
    public static synchronized List<String> restoredSoFar() {
        return List.copyOf(everRestored);
    }

    /**
     * The signals whose handlers differ from the snapshot now, for tests and diagnostics.
     *
     * @return their names; empty when all are as the JVM had them (or nothing was snapshotted)
     */
    public static List<String> changed() {
        if (saved == null) return List.of();
        synchronized (JvmSignalHandlers.class) {
            MemorySegment current = Native.CURRENT;
            List<String> out = new ArrayList<>();
            for (int i = 0; i < SIGNALS.length; i++) {
                query(SIGNALS[i], current);
                if (!sameHandler(current, i)) out.add(NAMES[i]);
            }
            return out;
        }
    }

    /**
     * Whether libjsig is loaded, which keeps the JVM's handlers first without any help from here.
     *
     * @return true when {@code libjsig.so} is mapped into this process
     */
    public static boolean chainedByLibjsig() {
        return LIBJSIG;
    }

    /**
     * Whether the snapshot's SIGSEGV handler lies in libjvm.so, i.e. it really was the JVM's.
     *
     * @return false also when there is no snapshot
     */
    public static boolean snapshotIsJvms() {
        if (saved == null) return false;
        long handler = saved.get(JAVA_LONG, SIGSEGV_INDEX * SIGACTION_BYTES);
        for (String line : maps()) {
            if (!line.endsWith("/libjvm.so")) continue;
            String[] range = line.substring(0, line.indexOf(' ')).split("-");
            if (Long.compareUnsigned(handler, Long.parseUnsignedLong(range[0], 16)) >= 0
                    && Long.compareUnsigned(handler, Long.parseUnsignedLong(range[1], 16)) < 0) return true;
        }
        return false;
    }

    private static boolean mapped(String librarySuffix) {
        return maps().stream().anyMatch(line -> line.endsWith(librarySuffix));
    }

    private static List<String> maps() {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps"));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    /**
     * Handler, mask and flags equal to the snapshot's entry {@code index}. Layout: sa_handler at 0,
     * sa_mask at 8 (glibc reserves 128 bytes but fills only the kernel's 64-bit set; the rest is
     * whatever the buffer held), sa_flags at 136. glibc adds SA_RESTORER to every action it installs,
     * so a default action it restored differs from the untouched one by that flag alone.
     */
    private static boolean sameHandler(MemorySegment action, int index) {
        long base = index * SIGACTION_BYTES;
        return action.get(JAVA_LONG, 0) == saved.get(JAVA_LONG, base)
                && action.get(JAVA_LONG, 8) == saved.get(JAVA_LONG, base + 8)
                && (action.get(JAVA_INT, 136) & ~SA_RESTORER) == (saved.get(JAVA_INT, base + 136) & ~SA_RESTORER);
    }

    private static void query(int signal, MemorySegment into) {
        call(signal, MemorySegment.NULL, into);
    }

    private static void call(int signal, MemorySegment act, MemorySegment old) {
        try {
            int rc = (int) Native.SIGACTION.invokeExact(signal, act, old);
            if (rc != 0) throw new IllegalStateException("sigaction(" + signal + ") failed");
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("sigaction(" + signal + ") failed: " + t, t);
        }
    }
}
