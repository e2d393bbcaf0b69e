/**
 * The float32 matrix-multiply module, generated at run time: packing of strided operands into panels
 * and a register-tiled SIMD micro-kernel, with the GotoBLAS loop nest around it.
 *
 * C = A·B with A `M×K` and B `K×N`. A is packed into panels of `MR` rows, laid out k-major
 * (`Ap[p][k][r] = A[p·MR + r, k]`), and B into panels of `NR = 4·NV` columns (`Bp[p][k][c] = B[k, p·NR + c]`),
 * both zero-padded to whole panels; any strides, transposed or broadcast, cost one packing pass and no
 * extra copy. The micro-kernel keeps an `MR × NR` tile of C in `MR·NV` f32x4 registers and, per k, loads
 * NV vectors of B, splats each of the MR values of A and multiply-adds: `f32x4.relaxed_madd` (one fused
 * instruction where the hardware has FMA) with relaxed SIMD, `f32x4.mul` + `f32x4.add` otherwise.
 * The driver walks K in blocks of `kc` (so a B panel block stays in L1 while A panels stream) and M in
 * blocks of `mc` panels (so the A block stays in L2); tiles on the right and bottom edges go through a
 * small scratch tile, so C is written only within its bounds.
 * @module
 */
import { CodeBuilder, I32, ModuleBuilder, V128, type ValType } from './encoder.js';
import { bump, forRange, loc, minI32, whileAtLeast, whileLoop } from './emit.js';

/** The shape of the micro-kernel: a `rows × 4·vectors` tile of C in registers, the k loop unrolled `unroll` times. */
export interface MatmulTile {
  /** Rows of A per panel and of the register tile (MR). */
  readonly rows: number;
  /** f32x4 vectors per tile row: the tile is `rows × 4·vectors` (NR = 4·NV). */
  readonly vectors: number;
  /** Unrolling of the k loop. */
  readonly unroll: number;
}

/** The micro-kernel's shape and how the module is built. */
export interface MatmulKernelOptions extends MatmulTile {
  /** Use `f32x4.relaxed_madd` (needs relaxed SIMD) instead of mul + add. */
  readonly relaxed: boolean;
  /** Import a shared memory (for threads). */
  readonly shared: boolean;
}

/** The kernels' exports. Pointers and strides are in bytes; sizes in elements. */
export interface MatmulExports {
  /** Packs `rows` rows of a `rows × K` view (row stride `sRow`, k stride `sK`) into MR-row panels at `dst`. */
  packA(dst: number, src: number, sRow: number, sK: number, rows: number, K: number): void;
  /** Packs the `N` columns of a `K × N` view (column stride `sCol`, k stride `sK`) into NR-column panels. */
  packB(dst: number, src: number, sCol: number, sK: number, cols: number, K: number): void;
  /**
   * `C = Ap·Bp` into the contiguous `M×N` C at `c`; `mp`, `np` count panels; `kc` and `mcPanels` are the
   * block sizes; `scratch` holds one MR×NR tile.
   */
  gemm(ap: number, bp: number, c: number, M: number, N: number, K: number, mp: number, np: number, kc: number, mcPanels: number, scratch: number): void;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** tile(ap, bp, c, ldc, kc, accumulate): C[MR×NR] (+)= Ap·Bp over kc steps. */
function emitTile(m: ModuleBuilder, o: MatmulKernelOptions): number {
  const { rows: MR, vectors: NV, relaxed, unroll: U } = o;
  const NR = 4 * NV;
  return m.addFunction('tile', [I32, I32, I32, I32, I32, I32], [], [], (c) => {
    const [ap, bp, cp, ldc, kc, accumulate] = [0, 1, 2, 3, 4, 5];
    const acc = range(MR * NV).map(() => c.local(V128));
    const b = range(NV).map(() => c.local(V128));
    const a = c.local(V128);
    const row = c.local(I32);
    c.localGet(accumulate).if();
    c.localGet(cp).localSet(row);
    for (let r = 0; r < MR; r++) {
      for (let j = 0; j < NV; j++) c.localGet(row).v128Load(16 * j, 2).localSet(acc[r * NV + j]!);
      if (r < MR - 1) bump(c, row, loc(ldc));
    }
    c.else();
    c.v128ConstF32(0, 0, 0, 0).localSet(acc[0]!);
    for (let t = 1; t < acc.length; t++) c.localGet(acc[0]!).localSet(acc[t]!);
    c.end();
    const step = (u: number): void => {
      for (let j = 0; j < NV; j++) c.localGet(bp).v128Load((u * NR + 4 * j) * 4).localSet(b[j]!);
      for (let r = 0; r < MR; r++) {
        c.localGet(ap).v128Load32Splat((u * MR + r) * 4).localSet(a);
        for (let j = 0; j < NV; j++) {
          const t = acc[r * NV + j]!;
          if (relaxed) c.localGet(a).localGet(b[j]!).localGet(t).f32x4RelaxedMadd().localSet(t);
          else c.localGet(a).localGet(b[j]!).f32x4Mul().localGet(t).f32x4Add().localSet(t);
        }
      }
    };
    const advance = (u: number): void => {
      bump(c, ap, u * MR * 4);
      bump(c, bp, u * NR * 4);
    };
    whileAtLeast(c, kc, U, () => {
      for (let u = 0; u < U; u++) step(u);
      advance(U);
    });
    whileAtLeast(c, kc, 1, () => {
      step(0);
      advance(1);
    });
    c.localGet(cp).localSet(row);
    for (let r = 0; r < MR; r++) {
      for (let j = 0; j < NV; j++) c.localGet(row).localGet(acc[r * NV + j]!).v128Store(16 * j, 2);
      if (r < MR - 1) bump(c, row, loc(ldc));
    }
  });
}

/** copyTile(src, srcLd, dst, dstLd, rows, cols): a rows×cols block of f32 between two row strides. */
function emitCopyTile(m: ModuleBuilder): number {
  return m.addFunction('copyTile', [I32, I32, I32, I32, I32, I32], [], [], (c) => {
    const [src, srcLd, dst, dstLd, rows, cols] = [0, 1, 2, 3, 4, 5];
    const r = c.local(I32);
    const j = c.local(I32);
    forRange(c, r, 0, loc(rows), 1, () => {
      forRange(c, j, 0, loc(cols), 1, () => {
        c.localGet(dst).localGet(j).i32Const(2).i32Shl().i32Add();
        c.localGet(src).localGet(j).i32Const(2).i32Shl().i32Add().f32Load();
        c.f32Store();
      });
      bump(c, src, loc(srcLd));
      bump(c, dst, loc(dstLd));
    });
  });
}

/**
 * pack(dst, src, sRow, sK, rows, K) into R-row panels: `dst[(p·K + k)·R + r] = src[(p·R + r)·sRow + k·sK]`,
 * zero past `rows`. Panels whose R rows are adjacent in memory (sRow = 4 bytes) move as whole vectors.
 */
function emitPack(m: ModuleBuilder, name: string, R: number): void {
  m.addFunction(name, [I32, I32, I32, I32, I32, I32], [], [], (c) => {
    const [dst, src, sRow, sK, rows, K] = [0, 1, 2, 3, 4, 5];
    const p0 = c.local(I32); // first row of the panel
    const r = c.local(I32);
    const k = c.local(I32);
    const s = c.local(I32);
    const d = c.local(I32);
    const panelBytes = c.local(I32);
    c.localGet(K).i32Const(R * 4).i32Mul().localSet(panelBytes);
    forRange(c, p0, 0, loc(rows), R, () => {
      const fullVectorPanel = (cc: CodeBuilder): void => {
        cc.localGet(sRow).i32Const(4).i32Eq();
        cc.localGet(p0).i32Const(R).i32Add().localGet(rows).i32LeS();
        cc.i32And();
      };
      if (R % 4 === 0) {
        fullVectorPanel(c);
        c.if();
        c.localGet(src).localGet(p0).i32Const(2).i32Shl().i32Add().localSet(s);
        c.localGet(dst).localSet(d);
        forRange(c, k, 0, loc(K), 1, () => {
          for (let v = 0; v < R / 4; v++) c.localGet(d).localGet(s).v128Load(16 * v, 2).v128Store(16 * v);
          bump(c, s, loc(sK));
          bump(c, d, R * 4);
        });
        c.else();
      }
      forRange(c, r, 0, R, 1, () => {
        c.localGet(dst).localGet(r).i32Const(2).i32Shl().i32Add().localSet(d);
        c.localGet(p0).localGet(r).i32Add().localGet(rows).i32LtS();
        c.if();
        c.localGet(p0).localGet(r).i32Add().localGet(sRow).i32Mul().localGet(src).i32Add().localSet(s);
        forRange(c, k, 0, loc(K), 1, () => {
          c.localGet(d).localGet(s).f32Load().f32Store();
          bump(c, s, loc(sK));
          bump(c, d, R * 4);
        });
        c.else();
        forRange(c, k, 0, loc(K), 1, () => {
          c.localGet(d).f32Const(0).f32Store();
          bump(c, d, R * 4);
        });
        c.end();
      });
      if (R % 4 === 0) c.end();
      bump(c, dst, loc(panelBytes));
    });
  });
}

/** The driver: the kc / mc / NR / MR loop nest around the micro-kernel. */
function emitGemm(m: ModuleBuilder, o: MatmulKernelOptions, tile: number, copyTile: number): void {
  const MR = o.rows;
  const NR = 4 * o.vectors;
  const P: ValType[] = range(11).map(() => I32);
  m.addFunction('gemm', P, [], [], (c) => {
    const [ap, bp, cp, M, N, K, mp, np, kc, mcPanels, scratch] = range(11);
    const [pc, kl, ic, icEnd, jp, ip, cols, rows, aptr, bptr, cptr, ldc, accumulate] = range(13).map(() => c.local(I32));
    c.localGet(N!).i32Const(2).i32Shl().localSet(ldc!);
    c.i32Const(0).localSet(pc!);
    whileLoop(c, (cc) => cc.localGet(pc!).localGet(K!).i32LtS(), () => {
      minI32(c, loc(kc!), (cc) => cc.localGet(K!).localGet(pc!).i32Sub());
      c.localSet(kl!);
      c.localGet(pc!).i32Const(0).i32GtS().localSet(accumulate!);
      c.i32Const(0).localSet(ic!);
      whileLoop(c, (cc) => cc.localGet(ic!).localGet(mp!).i32LtS(), () => {
        minI32(c, (cc) => cc.localGet(ic!).localGet(mcPanels!).i32Add(), loc(mp!));
        c.localSet(icEnd!);
        forRange(c, jp!, 0, loc(np!), 1, () => {
          // bptr = bp + (jp·K + pc)·NR·4; cols = min(NR, N − jp·NR)
          c.localGet(jp!).localGet(K!).i32Mul().localGet(pc!).i32Add().i32Const(NR * 4).i32Mul().localGet(bp!).i32Add().localSet(bptr!);
          minI32(c, NR, (cc) => cc.localGet(N!).localGet(jp!).i32Const(NR).i32Mul().i32Sub());
          c.localSet(cols!);
          forRange(c, ip!, loc(ic!), loc(icEnd!), 1, () => {
            c.localGet(ip!).localGet(K!).i32Mul().localGet(pc!).i32Add().i32Const(MR * 4).i32Mul().localGet(ap!).i32Add().localSet(aptr!);
            minI32(c, MR, (cc) => cc.localGet(M!).localGet(ip!).i32Const(MR).i32Mul().i32Sub());
            c.localSet(rows!);
            // cptr = c + (ip·MR·N + jp·NR)·4
            c.localGet(ip!).i32Const(MR).i32Mul().localGet(N!).i32Mul().localGet(jp!).i32Const(NR).i32Mul().i32Add();
            c.i32Const(2).i32Shl().localGet(cp!).i32Add().localSet(cptr!);
            c.localGet(rows!).i32Const(MR).i32Eq().localGet(cols!).i32Const(NR).i32Eq().i32And();
            c.if();
            c.localGet(aptr!).localGet(bptr!).localGet(cptr!).localGet(ldc!).localGet(kl!).localGet(accumulate!).call(tile);
            c.else();
            c.localGet(accumulate!).if();
            c.localGet(cptr!).localGet(ldc!).localGet(scratch!).i32Const(NR * 4).localGet(rows!).localGet(cols!).call(copyTile);
            c.end();
            c.localGet(aptr!).localGet(bptr!).localGet(scratch!).i32Const(NR * 4).localGet(kl!).localGet(accumulate!).call(tile);
            c.localGet(scratch!).i32Const(NR * 4).localGet(cptr!).localGet(ldc!).localGet(rows!).localGet(cols!).call(copyTile);
            c.end();
          });
        });
        c.localGet(icEnd!).localSet(ic!);
      });
      bump(c, pc!, loc(kl!));
    });
  });
}

/** The module's bytes: `packA`, `packB`, `gemm` (and the helpers they call), importing `env.memory`. */
export function matmulModule(o: MatmulKernelOptions): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory(o.shared ? { initial: 1, maximum: 65536, shared: true } : { initial: 1 });
  const tile = emitTile(m, o);
  const copyTile = emitCopyTile(m);
  emitPack(m, 'packA', o.rows);
  emitPack(m, 'packB', 4 * o.vectors);
  emitGemm(m, o, tile, copyTile);
  return m.build();
}
