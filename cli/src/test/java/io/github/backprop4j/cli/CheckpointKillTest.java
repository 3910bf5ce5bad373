package io.github.backprop4j.cli;

import io.github.backprop4j.core.AtomicFiles;
import io.github.backprop4j.core.Checkpoint;
import io.github.backprop4j.core.conformance.TestLaunch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Crash safety of checkpoint saving: a child JVM saving large checkpoints in a loop is killed with
 * SIGKILL ({@link Process#destroyForcibly()}) while a save is in progress, at several delays. The
 * target must then load as a complete checkpoint (the previous save, or the one whose rename had
 * just happened), the only other files may be hidden temp files no command loads, and the next save
 * removes them.
 */
class CheckpointKillTest {

    @TempDir
    Path dir;

    @Test
    void killedWhileSavingLeavesTheLastCompleteCheckpoint() throws Exception {
        Path target = dir.resolve("run.safetensors");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        int[] delaysMs = {0, 3, 10, 25, 60};
        int midWrite = 0;
        for (int delay : delaysMs) {
            Process child = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector",
                    "--enable-native-access=ALL-UNNAMED", "-cp", TestLaunch.childClassPath(CheckpointKillTest.class),
                    CheckpointSaveLoop.class.getName(), target.toString())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            AtomicInteger lastSaved = new AtomicInteger();
            Thread reader = Thread.ofPlatform().daemon().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; )
                        if (line.startsWith("saved ")) lastSaved.set(Integer.parseInt(line.substring(6)));
                } catch (IOException ignored) {
                    // the child was killed
                }
            });
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (lastSaved.get() < 1) {   // one complete checkpoint first
                    if (!child.isAlive() || System.nanoTime() > deadline) fail("child saved nothing (exit "
                            + (child.isAlive() ? "none" : child.exitValue()) + ")");
                    Thread.sleep(1);
                }
                while (temps().isEmpty()) {     // then catch the next save in the act
                    if (!child.isAlive() || System.nanoTime() > deadline) fail("no save in progress seen");
                    Thread.onSpinWait();
                }
                if (delay > 0) Thread.sleep(delay);
            } finally {
                child.destroyForcibly();
                child.waitFor(10, TimeUnit.SECONDS);
                reader.join(5000);
            }
            List<Path> leftovers = temps();
            if (!leftovers.isEmpty()) midWrite++;
            int saved = lastSaved.get();
            Checkpoint s = Checkpoint.read(target);
            int holds = Integer.parseInt(s.metadata().get(CheckpointSaveLoop.SAVE_KEY));
            assertTrue(holds == saved || holds == saved + 1,
                    "killed after save " + saved + " (delay " + delay + " ms), the file holds save " + holds);
            assertEquals(CheckpointSaveLoop.NET, s.network());
            try (Stream<Path> all = Files.list(dir)) {
                for (Path p : all.toList()) {
                    String name = p.getFileName().toString();
                    assertTrue(p.equals(target) || name.startsWith(".run.safetensors.") && name.endsWith(".tmp"),
                            "unexpected file " + name);
                }
            }
            System.out.printf("kill -9 %d ms into a save after %d complete saves: checkpoint loads (save %d), "
                    + "%d partial temp file(s) left%n", delay, saved, holds, leftovers.size());
        }
        // the next save through the same code path sweeps the dead writers' temp files away
        AtomicFiles.write(target, Files.readAllBytes(target));
        assertEquals(List.of(), temps());
        Checkpoint.read(target);
        assertTrue(midWrite > 0, "no kill landed while a temp file existed");
    }

    private List<Path> temps() throws IOException {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> all = Files.list(dir)) {
            all.filter(p -> p.getFileName().toString().endsWith(".tmp")).forEach(out::add);
        }
        return out;
    }
}
