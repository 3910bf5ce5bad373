package io.github.backprop4j.opencl;

import java.util.List;
import org.jocl.cl_mem;

/** gather.cl's launcher. */
final class GatherKernels {

    static final String SOURCE = "gather.cl";
    static final List<String> ENTRY_POINTS = List.of("gather_rows");

    private final OpenClProgram program;
    private final OpenClProgram.Kernel gatherRows;

    GatherKernels(OpenClProgram program) {
        this.program = program;
        gatherRows = program.kernel("gather_rows");
    }

    void gatherRows(cl_mem src, int srcRows, cl_mem order, int offset, cl_mem dst, int rows, int cols) {
        program.launch(gatherRows).mem(src).i32(srcRows).mem(order).i32(offset).i32(rows).i32(cols).mem(dst)
                .items((long) rows * cols);
    }
}
