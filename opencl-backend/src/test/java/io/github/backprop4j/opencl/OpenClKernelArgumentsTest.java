package io.github.backprop4j.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.conformance.BackendFixture;
import org.jocl.cl_mem;
import org.junit.jupiter.api.Test;

/**
 * A launch sets only the arguments that differ from the kernel's previous launch (OpenCL keeps them
 * between enqueues), and every launch still computes with its own arguments: buffers, null buffers and
 * scalars changed one at a time, back and forth, and kernels interleaved.
 */
class OpenClKernelArgumentsTest {

    @Test
    void aLaunchSetsOnlyTheArgumentsThatChangedAndComputesWithAllOfItsOwn() {
        BackendFixture.open("opencl").close(); // skips (or fails under BACKPROP4J_REQUIRE) without OpenCL
        try (OpenClDevice device = (OpenClDevice) new OpenClBackendProvider().open(BackendOptions.defaults())) {
            OpenClProgram program = device.program();
            cl_mem a = device.allocate(6), b = device.allocate(6), out = device.allocate(3);
            device.upload(new float[]{1, 2, 3, 4, 5, 6}, a);       // 2×3
            device.upload(new float[]{10, 20, 30, 40, 50, 60}, b);

            device.columnSum(a, 2, 3, 1f, 0f, out);                 // the kernel's first launch sets all 6
            long before = program.argumentsSet();
            device.columnSum(a, 2, 3, 1f, 0f, out);
            assertEquals(0, program.argumentsSet() - before, "the same launch again sets nothing");
            assertArrayEquals(new float[]{5, 7, 9}, read(device, out, 3));

            before = program.argumentsSet();
            device.columnSum(b, 2, 3, 2f, 0f, out);                 // the matrix and alpha change
            assertEquals(2, program.argumentsSet() - before);
            assertArrayEquals(new float[]{100, 140, 180}, read(device, out, 3));

            device.columnSum(a, 1, 3, 1f, 1f, out);                 // back to a, one row, beta 1: out += row 0
            assertArrayEquals(new float[]{101, 142, 183}, read(device, out, 3));

            // Another kernel between two launches of column_sum keeps its own arguments, a null buffer among them.
            cl_mem z = device.allocate(6), bias = device.allocate(3), act = device.allocate(6);
            device.upload(new float[]{-1, 2, -3, 4, -5, 6}, z);
            device.upload(new float[]{10, 10, 10}, bias);
            device.activationForward(Activation.RELU, z, null, act, 2, 3);
            assertArrayEquals(new float[]{0, 2, 0, 4, 0, 6}, read(device, act, 6));
            device.activationForward(Activation.RELU, z, bias, act, 2, 3);   // null → bias: z += bias
            assertArrayEquals(new float[]{9, 12, 7, 14, 5, 16}, read(device, act, 6));
            device.activationForward(Activation.RELU, z, null, act, 2, 3);   // bias → null: z as left, unchanged
            assertArrayEquals(new float[]{9, 12, 7, 14, 5, 16}, read(device, z, 6));

            device.columnSum(a, 1, 3, 1f, 1f, out);
            assertArrayEquals(new float[]{102, 144, 186}, read(device, out, 3), "column_sum kept its arguments");
            for (cl_mem m : new cl_mem[]{a, b, out, z, bias, act}) device.free(m);
        }
    }

    private static float[] read(OpenClDevice device, cl_mem m, int n) {
        float[] host = new float[n];
        device.download(m, host);
        return host;
    }
}
