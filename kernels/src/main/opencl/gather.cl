// Device.gatherRows: dst row r <- src row order[offset + r], for a data set resident on the device.
// order holds row indices as floats (exact below 2^24); an index outside src gives a NaN row, never
// an out-of-bounds read.
__kernel void gather_rows(__global const float* src, const int src_rows, __global const float* order,
                          const int offset, const int rows, const int cols, __global float* dst)
{
    const int i = get_global_id(0);
    if (i >= rows * cols) return;
    const int r = i / cols, c = i % cols;
    const float from = order[offset + r];
    dst[i] = (from >= 0.0f && from < (float) src_rows) ? src[(long) from * cols + c] : NAN;
}
