package io.github.backprop4j.core;

import io.github.backprop4j.core.spi.Availability;
import io.github.backprop4j.core.spi.BackendProvider;
import io.github.backprop4j.core.spi.Device;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BackendsTest {

    /** A provider that fails the test if anything but its name is asked for. */
    private record NameOnly(String name) implements BackendProvider {
        @Override
        public int priority() {
            throw new AssertionError("'" + name + "' was ranked, but only its name was needed");
        }

        @Override
        public Availability probe() {
            throw new AssertionError("'" + name + "' was probed, but only its name was needed");
        }

        @Override
        public Device<?> open(BackendOptions options) {
            throw new AssertionError("'" + name + "' was opened");
        }
    }

    @Test
    void aProviderIsFoundByNameWithoutRankingOrProbingTheOthers() {
        BackendProvider cpu = new NameOnly("cpu");
        List<BackendProvider> all = List.of(new NameOnly("opencl"), cpu, new NameOnly("cuda"));
        assertSame(cpu, Backends.named(all, " CPU "));
    }

    @Test
    void anUnknownNameListsTheKnownOnesInOrder() {
        List<BackendProvider> all = List.of(new NameOnly("opencl"), new NameOnly("cpu"), new NameOnly("cuda"));
        BackendException e = assertThrows(BackendException.class, () -> Backends.named(all, "tpu"));
        assertEquals("unknown backend 'tpu': the class path has cpu, cuda, opencl", e.getMessage());
        BackendException none = assertThrows(BackendException.class, () -> Backends.named(List.of(), "cpu"));
        assertEquals("unknown backend 'cpu': the class path has no backends (add backprop4j-cpu, -cuda or -opencl)",
                none.getMessage());
    }
}
