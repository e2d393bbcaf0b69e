/**
 * A one-node ONNX model, hand-encoded in protocol buffers, so that the benchmarks can time
 * onnxruntime-node's matrix product without a protobuf dependency or a model file: `Y = A·B` as a
 * `MatMul` node, or `Y = op(A)·op(B)` as a `Gemm` node with `transA` / `transB` (for transposed
 * operands). Inputs `A` and `B` are float32 matrices with symbolic dimensions, so one model serves every size.
 *
 * The encoding follows `onnx.proto` (ModelProto, GraphProto, NodeProto, AttributeProto, ValueInfoProto,
 * TypeProto, TensorShapeProto, OperatorSetIdProto): IR version 8, default-domain opset 13.
 * @module
 */

/** Protobuf wire types. */
const VARINT = 0;
const BYTES = 2;

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** A varint field. */
function int(field: number, value: number): number[] {
  return [...varint((field << 3) | VARINT), ...varint(value)];
}

/** A length-delimited field: a nested message (bytes) or a string. */
function bytes(field: number, body: number[] | string): number[] {
  const b = typeof body === 'string' ? [...new TextEncoder().encode(body)] : body;
  return [...varint((field << 3) | BYTES), ...varint(b.length), ...b];
}

/** ValueInfoProto of a float32 matrix with symbolic dimensions `dims`. */
function matrix(name: string, dims: [string, string]): number[] {
  const shape = dims.flatMap((d) => bytes(1, bytes(2, d))); // TensorShapeProto.dim { dim_param }
  const tensorType = [...int(1, 1), ...bytes(2, shape)]; // elem_type FLOAT = 1, shape
  return [...bytes(1, name), ...bytes(2, bytes(1, tensorType))]; // name, type { tensor_type }
}

/** AttributeProto `name: i` of type INT (2). */
function intAttribute(name: string, i: number): number[] {
  return [...bytes(1, name), ...int(3, i), ...int(20, 2)];
}

/** The model's bytes: `Y = A·B` (MatMul) or, with a transposed operand, `Y = op(A)·op(B)` (Gemm). */
export function matmulModel(opts: { transA?: boolean; transB?: boolean } = {}): Uint8Array {
  const { transA = false, transB = false } = opts;
  const gemm = transA || transB;
  const node = [
    ...bytes(1, 'A'),
    ...bytes(1, 'B'),
    ...bytes(2, 'Y'),
    ...bytes(3, 'product'),
    ...bytes(4, gemm ? 'Gemm' : 'MatMul'),
    ...(gemm ? [...bytes(5, intAttribute('transA', transA ? 1 : 0)), ...bytes(5, intAttribute('transB', transB ? 1 : 0))] : []),
  ];
  const graph = [
    ...bytes(1, node),
    ...bytes(2, 'matmul'),
    ...bytes(11, matrix('A', transA ? ['K', 'M'] : ['M', 'K'])),
    ...bytes(11, matrix('B', transB ? ['N', 'K'] : ['K', 'N'])),
    ...bytes(12, matrix('Y', ['M', 'N'])),
  ];
  const opset = [...bytes(1, ''), ...int(2, 13)];
  return Uint8Array.from([...int(1, 8), ...bytes(2, 'being-ts bench'), ...bytes(7, graph), ...bytes(8, opset)]);
}
