/**
 * A small encoder for the WebAssembly binary format, so kernels are generated at run time from
 * TypeScript (no compiled artefacts are shipped). It covers what the kernels need: one imported memory
 * (optionally shared, for threads), functions with locals, exports, structured control flow, scalar
 * i32/f32/f64 instructions, and 128-bit SIMD including relaxed SIMD's fused multiply-add.
 *
 * Encoding follows the WebAssembly core specification (binary format, §5) and the SIMD and relaxed-SIMD
 * proposals' opcode tables.
 * @module
 */

/** Value types. */
export const I32 = 0x7f;
/** 64-bit integer. */
export const I64 = 0x7e;
/** 32-bit float. */
export const F32 = 0x7d;
/** 64-bit float. */
export const F64 = 0x7c;
/** 128-bit vector. */
export const V128 = 0x7b;
/** A value type byte. */
export type ValType = typeof I32 | typeof I64 | typeof F32 | typeof F64 | typeof V128;

/** Appends the unsigned LEB128 encoding of `n` (a non-negative integer < 2^53) to `out`. */
export function uleb(out: number[], n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`wasm encoder: uleb of ${n}`);
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
}

/** Appends the signed LEB128 encoding of the 32-bit integer `n` to `out`. */
export function sleb(out: number[], n: number): void {
  n |= 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

function utf8(out: number[], s: string): void {
  const bytes = new TextEncoder().encode(s);
  uleb(out, bytes.length);
  for (const b of bytes) out.push(b);
}

function section(out: number[], id: number, body: number[]): void {
  out.push(id);
  uleb(out, body.length);
  for (const b of body) out.push(b);
}

/**
 * Emits the instructions of one function body. Methods return `this`, so code reads as a sequence:
 * `c.localGet(0).f32Load().localGet(1).f32Load().f32Add()`. Memory instructions take the alignment as a
 * power of two (`align`) and a constant byte `offset`.
 */
export class CodeBuilder {
  /** The encoded instructions so far. */
  readonly bytes: number[] = [];
  /** Locals declared with {@link CodeBuilder.local}, after the function's parameters and listed locals. */
  readonly extraLocals: ValType[] = [];
  #depth = 0;
  #firstExtra: number;

  /** `firstLocal`: the index the first {@link CodeBuilder.local} gets (parameters and listed locals come first). */
  constructor(firstLocal = 0) {
    this.#firstExtra = firstLocal;
  }

  /** Declares one more local of type `t` and returns its index. */
  local(t: ValType): number {
    this.extraLocals.push(t);
    return this.#firstExtra + this.extraLocals.length - 1;
  }

  #op(...b: number[]): this {
    for (const x of b) this.bytes.push(x);
    return this;
  }
  #mem(op: number, align: number, offset: number): this {
    this.bytes.push(op);
    uleb(this.bytes, align);
    uleb(this.bytes, offset);
    return this;
  }
  #simd(op: number): this {
    this.bytes.push(0xfd);
    uleb(this.bytes, op);
    return this;
  }
  #simdMem(op: number, align: number, offset: number): this {
    this.#simd(op);
    uleb(this.bytes, align);
    uleb(this.bytes, offset);
    return this;
  }

  // Control flow. Blocks here have no result (block type 0x40).
  /** `block … end`: `br` to it jumps forward past `end`. */
  block(): this {
    this.#depth++;
    return this.#op(0x02, 0x40);
  }
  /** `loop … end`: `br` to it jumps back to the start. */
  loop(): this {
    this.#depth++;
    return this.#op(0x03, 0x40);
  }
  /** `if … (else …) end` on the i32 on the stack. */
  if(): this {
    this.#depth++;
    return this.#op(0x04, 0x40);
  }
  /** `else` of the innermost `if`. */
  else(): this {
    return this.#op(0x05);
  }
  /** Closes the innermost block, loop or if. */
  end(): this {
    if (this.#depth === 0) throw new Error('wasm encoder: end() without an open block');
    this.#depth--;
    return this.#op(0x0b);
  }
  /** Branches to the block `depth` levels out (0 = innermost). */
  br(depth: number): this {
    this.bytes.push(0x0c);
    uleb(this.bytes, depth);
    return this;
  }
  /** Branches when the i32 on the stack is non-zero. */
  brIf(depth: number): this {
    this.bytes.push(0x0d);
    uleb(this.bytes, depth);
    return this;
  }
  /** Returns from the function. */
  return(): this {
    return this.#op(0x0f);
  }
  /** Discards the top of the stack. */
  drop(): this {
    return this.#op(0x1a);
  }
  /** `select`: of two values, the first when the i32 on top is non-zero, else the second. */
  select(): this {
    return this.#op(0x1b);
  }
  /** Calls function `index` (the number {@link ModuleBuilder.addFunction} returned). */
  call(index: number): this {
    this.bytes.push(0x10);
    uleb(this.bytes, index);
    return this;
  }

  // Locals.
  /** Pushes local `i`. */
  localGet(i: number): this {
    this.bytes.push(0x20);
    uleb(this.bytes, i);
    return this;
  }
  /** Pops into local `i`. */
  localSet(i: number): this {
    this.bytes.push(0x21);
    uleb(this.bytes, i);
    return this;
  }
  /** Stores into local `i` and keeps the value. */
  localTee(i: number): this {
    this.bytes.push(0x22);
    uleb(this.bytes, i);
    return this;
  }

  // Scalar memory.
  /** i32.load */
  i32Load(offset = 0, align = 2): this {
    return this.#mem(0x28, align, offset);
  }
  /** f32.load */
  f32Load(offset = 0, align = 2): this {
    return this.#mem(0x2a, align, offset);
  }
  /** f64.load */
  f64Load(offset = 0, align = 3): this {
    return this.#mem(0x2b, align, offset);
  }
  /** i32.store */
  i32Store(offset = 0, align = 2): this {
    return this.#mem(0x36, align, offset);
  }
  /** f32.store */
  f32Store(offset = 0, align = 2): this {
    return this.#mem(0x38, align, offset);
  }
  /** f64.store */
  f64Store(offset = 0, align = 3): this {
    return this.#mem(0x39, align, offset);
  }

  // Constants.
  /** i32.const */
  i32Const(v: number): this {
    this.bytes.push(0x41);
    sleb(this.bytes, v);
    return this;
  }
  /** f32.const */
  f32Const(v: number): this {
    this.bytes.push(0x43);
    for (const b of new Uint8Array(Float32Array.of(v).buffer)) this.bytes.push(b);
    return this;
  }
  /** f64.const */
  f64Const(v: number): this {
    this.bytes.push(0x44);
    for (const b of new Uint8Array(Float64Array.of(v).buffer)) this.bytes.push(b);
    return this;
  }

  // i32 arithmetic and comparisons.
  /** i32.eqz */
  i32Eqz(): this {
    return this.#op(0x45);
  }
  /** i32.eq */
  i32Eq(): this {
    return this.#op(0x46);
  }
  /** i32.ne */
  i32Ne(): this {
    return this.#op(0x47);
  }
  /** i32.lt_s */
  i32LtS(): this {
    return this.#op(0x48);
  }
  /** i32.lt_u */
  i32LtU(): this {
    return this.#op(0x49);
  }
  /** i32.gt_s */
  i32GtS(): this {
    return this.#op(0x4a);
  }
  /** i32.le_s */
  i32LeS(): this {
    return this.#op(0x4c);
  }
  /** i32.gt_u */
  i32GtU(): this {
    return this.#op(0x4b);
  }
  /** i32.le_u */
  i32LeU(): this {
    return this.#op(0x4d);
  }
  /** i32.ge_s */
  i32GeS(): this {
    return this.#op(0x4e);
  }
  /** i32.ge_u */
  i32GeU(): this {
    return this.#op(0x4f);
  }
  /** i32.add */
  i32Add(): this {
    return this.#op(0x6a);
  }
  /** i32.sub */
  i32Sub(): this {
    return this.#op(0x6b);
  }
  /** i32.mul */
  i32Mul(): this {
    return this.#op(0x6c);
  }
  /** i32.and */
  i32And(): this {
    return this.#op(0x71);
  }
  /** i32.or */
  i32Or(): this {
    return this.#op(0x72);
  }
  /** i32.shl */
  i32Shl(): this {
    return this.#op(0x74);
  }
  /** i32.shr_u */
  i32ShrU(): this {
    return this.#op(0x76);
  }

  // f32 / f64 arithmetic.
  /** f32.abs */
  f32Abs(): this {
    return this.#op(0x8b);
  }
  /** f32.neg */
  f32Neg(): this {
    return this.#op(0x8c);
  }
  /** f32.add */
  f32Add(): this {
    return this.#op(0x92);
  }
  /** f32.sub */
  f32Sub(): this {
    return this.#op(0x93);
  }
  /** f32.mul */
  f32Mul(): this {
    return this.#op(0x94);
  }
  /** f32.div */
  f32Div(): this {
    return this.#op(0x95);
  }
  /** f32.min */
  f32Min(): this {
    return this.#op(0x96);
  }
  /** f32.max */
  f32Max(): this {
    return this.#op(0x97);
  }
  /** f32.sqrt */
  f32Sqrt(): this {
    return this.#op(0x91);
  }
  /** f64.add */
  f64Add(): this {
    return this.#op(0xa0);
  }
  /** f64.mul */
  f64Mul(): this {
    return this.#op(0xa2);
  }
  /** f32.demote_f64 */
  f32DemoteF64(): this {
    return this.#op(0xb6);
  }
  /** f64.promote_f32 */
  f64PromoteF32(): this {
    return this.#op(0xbb);
  }

  // SIMD (prefix 0xFD).
  /** v128.load */
  v128Load(offset = 0, align = 4): this {
    return this.#simdMem(0x00, align, offset);
  }
  /** v128.load32_splat: one f32/i32 from memory into all four lanes. */
  v128Load32Splat(offset = 0, align = 2): this {
    return this.#simdMem(0x09, align, offset);
  }
  /** v128.store */
  v128Store(offset = 0, align = 4): this {
    return this.#simdMem(0x0b, align, offset);
  }
  /** v128.const: sixteen bytes, given here as four f32 lanes. */
  v128ConstF32(a: number, b: number, c: number, d: number): this {
    this.#simd(0x0c);
    for (const x of new Uint8Array(Float32Array.of(a, b, c, d).buffer)) this.bytes.push(x);
    return this;
  }
  /** i8x16.shuffle: byte `i` of the result is byte `lanes[i]` of the two operands' 32 bytes. */
  i8x16Shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16 || lanes.some((l) => !Number.isInteger(l) || l < 0 || l > 31)) {
      throw new RangeError(`wasm encoder: i8x16.shuffle needs 16 lane indices in [0, 32), got [${lanes.join(', ')}]`);
    }
    this.#simd(0x0d);
    for (const l of lanes) this.bytes.push(l);
    return this;
  }
  /** f32x4.splat */
  f32x4Splat(): this {
    return this.#simd(0x13);
  }
  /** f32x4.extract_lane */
  f32x4ExtractLane(lane: number): this {
    this.#simd(0x1f);
    this.bytes.push(lane);
    return this;
  }
  /** f32x4.abs */
  f32x4Abs(): this {
    return this.#simd(0xe0);
  }
  /** f32x4.neg */
  f32x4Neg(): this {
    return this.#simd(0xe1);
  }
  /** f32x4.sqrt */
  f32x4Sqrt(): this {
    return this.#simd(0xe3);
  }
  /** f32x4.add */
  f32x4Add(): this {
    return this.#simd(0xe4);
  }
  /** f32x4.sub */
  f32x4Sub(): this {
    return this.#simd(0xe5);
  }
  /** f32x4.mul */
  f32x4Mul(): this {
    return this.#simd(0xe6);
  }
  /** f32x4.div */
  f32x4Div(): this {
    return this.#simd(0xe7);
  }
  /** f32x4.min */
  f32x4Min(): this {
    return this.#simd(0xe8);
  }
  /** f32x4.max */
  f32x4Max(): this {
    return this.#simd(0xe9);
  }
  /** f32x4.pmin: `b < a ? b : a` per lane (no NaN canonicalisation). */
  f32x4Pmin(): this {
    return this.#simd(0xea);
  }
  /** f32x4.pmax: `a < b ? b : a` per lane. */
  f32x4Pmax(): this {
    return this.#simd(0xeb);
  }
  /** f64x2.promote_low_f32x4: the two low f32 lanes widened to f64. */
  f64x2PromoteLowF32x4(): this {
    return this.#simd(0x5f);
  }
  /** f64x2.add */
  f64x2Add(): this {
    return this.#simd(0xf0);
  }
  /** f64x2.extract_lane */
  f64x2ExtractLane(lane: number): this {
    this.#simd(0x21);
    this.bytes.push(lane);
    return this;
  }
  /** f32x4.relaxed_madd (relaxed SIMD): a·b + c, fused where the hardware can. */
  f32x4RelaxedMadd(): this {
    return this.#simd(0x105);
  }

  // More SIMD, for the fused kernels' math (exp, erf) and masks.
  /** i32.load8_u: one byte, zero-extended. */
  i32Load8U(offset = 0, align = 0): this {
    return this.#mem(0x2d, align, offset);
  }
  /** i16x8.extend_low_i8x16_u: the low eight bytes widened to u16 lanes. */
  i16x8ExtendLowI8x16U(): this {
    return this.#simd(0x89);
  }
  /** v128.load32_zero: one 32-bit value into lane 0, the other lanes zero. */
  v128Load32Zero(offset = 0, align = 2): this {
    return this.#simdMem(0x5c, align, offset);
  }
  /** i32x4.splat */
  i32x4Splat(): this {
    return this.#simd(0x11);
  }
  /** v128.const: sixteen bytes, given here as four i32 lanes. */
  v128ConstI32(a: number, b: number, c: number, d: number): this {
    this.#simd(0x0c);
    for (const x of new Uint8Array(Int32Array.of(a, b, c, d).buffer)) this.bytes.push(x);
    return this;
  }
  /** i32x4.ne */
  i32x4Ne(): this {
    return this.#simd(0x38);
  }
  /** f32x4.lt */
  f32x4Lt(): this {
    return this.#simd(0x43);
  }
  /** v128.and */
  v128And(): this {
    return this.#simd(0x4e);
  }
  /** v128.bitselect: bits of the first operand where the third (the mask) is 1, of the second elsewhere. */
  v128Bitselect(): this {
    return this.#simd(0x52);
  }
  /** f32x4.nearest: round to the nearest integer, ties to even. */
  f32x4Nearest(): this {
    return this.#simd(0x6a);
  }
  /** i32x4.extend_low_i16x8_u */
  i32x4ExtendLowI16x8U(): this {
    return this.#simd(0xa9);
  }
  /** i32x4.shl by the i32 on top of the stack. */
  i32x4Shl(): this {
    return this.#simd(0xab);
  }
  /** i32x4.shr_s by the i32 on top of the stack. */
  i32x4ShrS(): this {
    return this.#simd(0xac);
  }
  /** i32x4.add */
  i32x4Add(): this {
    return this.#simd(0xae);
  }
  /** i32x4.sub */
  i32x4Sub(): this {
    return this.#simd(0xb1);
  }
  /** i32x4.trunc_sat_f32x4_s: toward zero, saturating, NaN → 0. */
  i32x4TruncSatF32x4S(): this {
    return this.#simd(0xf8);
  }
  /** f32.convert_i32_s */
  f32ConvertI32S(): this {
    return this.#op(0xb2);
  }

  /** The body's bytes, checking that every block was closed. */
  finish(): number[] {
    if (this.#depth !== 0) throw new Error(`wasm encoder: ${this.#depth} block(s) left open`);
    return [...this.bytes, 0x0b];
  }
}

interface FuncDef {
  name: string;
  params: ValType[];
  results: ValType[];
  locals: ValType[];
  body: number[];
}

/** Options of {@link ModuleBuilder.importMemory}. */
export interface MemoryImport {
  /** Import module name (default `env`). */
  module?: string;
  /** Import field name (default `memory`). */
  name?: string;
  /** Initial size in 64 KiB pages. */
  initial: number;
  /** Maximum size in pages (required when shared). */
  maximum?: number;
  /** A shared memory (threads). */
  shared?: boolean;
}

/**
 * Builds a module: an imported memory and exported functions.
 *
 * @example
 * const m = new ModuleBuilder().importMemory({ initial: 1 });
 * m.addFunction('add', [I32, I32], [I32], [], (c) => c.localGet(0).localGet(1).i32Add());
 * const { instance } = await WebAssembly.instantiate(m.build(), { env: { memory } });
 */
export class ModuleBuilder {
  #memory: MemoryImport | null = null;
  #funcs: FuncDef[] = [];

  /** Imports the linear memory all functions use. */
  importMemory(mem: MemoryImport): this {
    if (mem.shared && mem.maximum === undefined) throw new RangeError('wasm encoder: a shared memory needs a maximum size');
    this.#memory = mem;
    return this;
  }

  /**
   * Adds an exported function; `params` are locals 0…n−1, `locals` follow them, and then any the body
   * declares with {@link CodeBuilder.local}. Returns its index (for {@link CodeBuilder.call}).
   */
  addFunction(name: string, params: ValType[], results: ValType[], locals: ValType[], body: (c: CodeBuilder) => void): number {
    const c = new CodeBuilder(params.length + locals.length);
    body(c);
    this.#funcs.push({ name, params, results, locals: [...locals, ...c.extraLocals], body: c.finish() });
    return this.#funcs.length - 1;
  }

  /** The module's bytes. */
  build(): Uint8Array<ArrayBuffer> {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    // Types: one per function (duplicates are allowed and keep the encoder simple).
    const types: number[] = [];
    uleb(types, this.#funcs.length);
    for (const f of this.#funcs) {
      types.push(0x60);
      uleb(types, f.params.length);
      types.push(...f.params);
      uleb(types, f.results.length);
      types.push(...f.results);
    }
    section(out, 1, types);
    if (this.#memory) {
      const m = this.#memory;
      const imp: number[] = [];
      uleb(imp, 1);
      utf8(imp, m.module ?? 'env');
      utf8(imp, m.name ?? 'memory');
      imp.push(0x02, m.shared ? 0x03 : m.maximum !== undefined ? 0x01 : 0x00);
      uleb(imp, m.initial);
      if (m.maximum !== undefined) uleb(imp, m.maximum);
      section(out, 2, imp);
    }
    const fn: number[] = [];
    uleb(fn, this.#funcs.length);
    this.#funcs.forEach((_, i) => uleb(fn, i));
    section(out, 3, fn);
    const exp: number[] = [];
    uleb(exp, this.#funcs.length);
    this.#funcs.forEach((f, i) => {
      utf8(exp, f.name);
      exp.push(0x00);
      uleb(exp, i);
    });
    section(out, 7, exp);
    const code: number[] = [];
    uleb(code, this.#funcs.length);
    for (const f of this.#funcs) {
      const body: number[] = [];
      // Locals are run-length encoded as (count, type) groups.
      const groups: [number, ValType][] = [];
      for (const t of f.locals) {
        const last = groups[groups.length - 1];
        if (last && last[1] === t) last[0]++;
        else groups.push([1, t]);
      }
      uleb(body, groups.length);
      for (const [n, t] of groups) {
        uleb(body, n);
        body.push(t);
      }
      body.push(...f.body);
      uleb(code, body.length);
      code.push(...body);
    }
    section(out, 10, code);
    return new Uint8Array(out);
  }
}
