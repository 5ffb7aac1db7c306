package io.quantgate.backend.onnxruntime;

/**
 * ONNX models of one linear layer {@code Y[M, N] = A[M, K] · W}, written as ModelProto bytes
 * (onnx.proto field numbers; IR version 8, opset 17 + com.microsoft 1). Input {@code A} has a symbolic batch
 * dimension {@code M}, so one session serves GEMV (M = 1) and GEMM.
 */
final class OnnxGraphs {
    static final int FLOAT = 1;
    static final int UINT8 = 2;
    static final int FLOAT16 = 10;

    private OnnxGraphs() {
    }

    /** {@code MatMul(A, B)} with B {@code [K, N]} stored as {@code raw} little-endian values of {@code type}. */
    static byte[] matMul(int k, int n, int type, byte[] raw) {
        Proto graph = new Proto()
                .message(1, node("MatMul", "", new String[] {"A", "B"}))
                .string(2, "quantgate_matmul")
                .message(5, tensor("B", type, new long[] {k, n}, raw))
                .message(11, valueInfo("A", type, k))
                .message(12, valueInfo("Y", type, n));
        return model(graph);
    }

    /**
     * {@code com.microsoft.MatMulNBits}: B {@code [N][blocks][blockSize·bits/8]} uint8 codes, float scales
     * {@code [N·blocks]}, zero points uint8 packed like B ({@code [N][ceil(blocks·bits/8)]}) or null for the
     * default {@code 2^(bits−1)}; dequantized value {@code (u − zp)·scale}.
     */
    static byte[] matMulNBits(int k, int n, int bits, int blockSize, int accuracyLevel, byte[] b, float[] scales,
                              byte[] zeroPoints) {
        int blocks = (k + blockSize - 1) / blockSize;
        Proto node = new Proto().string(1, "A").string(1, "B").string(1, "scales");
        if (zeroPoints != null) {
            node.string(1, "zero_points");
        }
        node.string(2, "Y").string(3, "matmul_nbits").string(4, "MatMulNBits")
                .message(5, intAttr("K", k)).message(5, intAttr("N", n)).message(5, intAttr("bits", bits))
                .message(5, intAttr("block_size", blockSize)).message(5, intAttr("accuracy_level", accuracyLevel))
                .string(7, "com.microsoft");
        byte[] s = new byte[4 * scales.length];
        java.nio.ByteBuffer.wrap(s).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(scales);
        Proto graph = new Proto().message(1, node).string(2, "quantgate_matmul_nbits")
                .message(5, tensor("B", UINT8, new long[] {n, blocks, (long) blockSize * bits / 8}, b))
                .message(5, tensor("scales", FLOAT, new long[] {(long) n * blocks}, s));
        if (zeroPoints != null) {
            graph.message(5, tensor("zero_points", UINT8, new long[] {zeroPoints.length}, zeroPoints));
        }
        graph.message(11, valueInfo("A", FLOAT, k)).message(12, valueInfo("Y", FLOAT, n));
        return model(graph);
    }

    private static Proto node(String op, String domain, String[] inputs) {
        Proto p = new Proto();
        for (String i : inputs) {
            p.string(1, i);
        }
        p.string(2, "Y").string(3, op.toLowerCase(java.util.Locale.ROOT)).string(4, op);
        if (!domain.isEmpty()) {
            p.string(7, domain);
        }
        return p;
    }

    private static Proto intAttr(String name, long v) {
        return new Proto().string(1, name).varint(3, v).varint(20, 2); // AttributeType INT = 2
    }

    private static Proto tensor(String name, int type, long[] dims, byte[] raw) {
        Proto t = new Proto();
        for (long d : dims) {
            t.varint(1, d);
        }
        return t.varint(2, type).string(8, name).bytes(9, raw);
    }

    /** A 2-D tensor value [M, cols] with M symbolic. */
    private static Proto valueInfo(String name, int type, int cols) {
        Proto shape = new Proto().message(1, new Proto().string(2, "M")).message(1, new Proto().varint(1, cols));
        Proto tensorType = new Proto().varint(1, type).message(2, shape);
        return new Proto().string(1, name).message(2, new Proto().message(1, tensorType));
    }

    private static byte[] model(Proto graph) {
        return new Proto().varint(1, 8).string(2, "quantgate")
                .message(7, graph)
                .message(8, new Proto().string(1, "").varint(2, 17))
                .message(8, new Proto().string(1, "com.microsoft").varint(2, 1))
                .toByteArray();
    }
}
