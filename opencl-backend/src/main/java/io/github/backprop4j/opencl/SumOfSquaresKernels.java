package io.github.backprop4j.opencl;

import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clReleaseMemObject;

import org.jocl.cl_context;
import org.jocl.cl_mem;

/**
 * sum_of_squares.cl's launcher: {@link #GROUPS} work-groups of {@link #GROUP} write one partial each into
 * a scratch buffer made once with the device, sum_of_squares_total adds them in order.
 */
final class SumOfSquaresKernels implements AutoCloseable {

    /** sum_of_squares.cl's SUM_OF_SQUARES_GROUP, and the fixed number of groups, whatever the length. */
    private static final int GROUP = 64, GROUPS = 64;

    private final OpenClProgram.Kernel partials, total;
    private cl_mem groupPartial;

    SumOfSquaresKernels(OpenClProgram program, cl_context context) {
        partials = program.kernel("sum_of_squares");
        total = program.kernel("sum_of_squares_total");
        int[] rc = new int[1];
        groupPartial = clCreateBuffer(context, CL_MEM_READ_WRITE, (long) GROUPS * Float.BYTES, null, rc);
        OpenClProgram.check(rc[0], "clCreateBuffer(sum of squares partials, " + GROUPS + " floats)");
    }

    void sumOfSquares(cl_mem m, int n, boolean accumulate, cl_mem out) {
        partials.launch().mem(m).i32(n).mem(groupPartial).grid(new long[]{(long) GROUPS * GROUP}, new long[]{GROUP});
        total.launch().mem(groupPartial).i32(GROUPS).i32(accumulate ? 1 : 0).mem(out).items(1);
    }

    long scratchBytes() {
        return groupPartial == null ? 0 : (long) GROUPS * Float.BYTES;
    }

    @Override
    public void close() {
        if (groupPartial != null) clReleaseMemObject(groupPartial);
        groupPartial = null;
    }
}
