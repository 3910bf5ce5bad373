package io.github.backprop4j.opencl;

import org.jocl.cl_mem;

/** gather.cl's launcher. */
final class GatherKernels {

    private final OpenClProgram.Kernel gatherRows;

    GatherKernels(OpenClProgram program) {
        gatherRows = program.kernel("gather_rows");
    }

    void gatherRows(cl_mem src, int srcRows, cl_mem order, int offset, cl_mem dst, int rows, int cols) {
        gatherRows.launch().mem(src).i32(srcRows).mem(order).i32(offset).i32(rows).i32(cols).mem(dst)
                .items((long) rows * cols);
    }
}
