/**
 * Writing WebGL kernels: each is the JavaScript body of a gpu.js kernel, generated for the rank of the
 * (coalesced) views it walks, with every shape, stride and offset passed as a float uniform. One
 * fragment computes one output element: `this.thread.x` is its flat row-major position, which
 * {@link walk} splits into coordinates and turns into an element index of every operand.
 * @module
 */
import type { Operand } from '../backend.js';
import { coalesce } from '../cpu/strided.js';
import { contiguousStrides } from '../shape.js';
import type { GpuJsArgument } from './gpujs.js';

/** A kernel's parameters, in order, with this call's values. */
export class GLParams {
  /** `[name, value]` pairs, in the kernel function's parameter order. */
  readonly list: [string, GpuJsArgument][] = [];

  /** Adds a parameter and returns its name. */
  add(name: string, value: GpuJsArgument): string {
    this.list.push([name, value]);
    return name;
  }
}

/** One axis of a {@link walk}: its size and each operand's stride along it. */
export interface Axis {
  /** The axis length (a parameter is added for it where the walk needs it). */
  size: number;
  /** Operand index variable → that operand's stride along this axis. */
  strides: Record<string, number>;
  /** A variable to declare holding this axis's coordinate. */
  coord?: string;
}

/**
 * Statements that split the flat position `pos` (a float expression) over `axes` (row-major) and add
 * each coordinate times the operand's stride to the operand's index variable, which must be declared.
 * Sizes and strides become parameters named after `tag` (unique within a kernel). The text depends only
 * on the rank, the operands and the tag, never on the values, so one compiled kernel serves every call.
 */
export function walk(p: GLParams, tag: string, pos: string, axes: readonly Axis[]): string {
  const q = `${tag}q`;
  const lines = [`let ${q} = bt_f(${pos});`];
  for (let k = axes.length - 1; k >= 0; k--) {
    const a = axes[k]!;
    let c: string;
    if (k === 0) c = q;
    else {
      const n = p.add(`${tag}n${k}`, a.size);
      c = `${tag}c${k}`;
      lines.push(`let ${c} = bt_mod(${q}, ${n});`, `${q} = bt_div(${q}, ${n});`);
    }
    for (const [v, s] of Object.entries(a.strides)) {
      lines.push(`${v} = ${v} + ${c} * ${p.add(`${v}${tag}s${k}`, s)};`);
    }
    if (a.coord !== undefined) lines.push(`let ${a.coord} = ${c};`);
  }
  return lines.join('\n');
}

/** The gpu.js kernel source: a function of the parameters with `body`. */
export function kernelSource(p: GLParams, body: string): string {
  return `function (${p.list.map(([n]) => n).join(', ')}) {\n${body}\n}`;
}

/** An operand view restricted to some axes: their sizes and strides. */
export function pick(o: Operand, axes: readonly number[]): { shape: number[]; strides: number[] } {
  return { shape: axes.map((a) => o.shape[a]!), strides: axes.map((a) => o.strides[a]!) };
}

/** The lanes' axes before and after `axis`, coalesced, with `x`'s strides (added to `xi`). */
export function laneAxes(x: Operand, axis: number): { before: Axis[]; after: Axis[] } {
  const out = contiguousStrides(x.shape);
  const part = (axes: number[]): Axis[] => {
    const c = coalesce(
      axes.map((i) => x.shape[i]!),
      [axes.map((i) => out[i]!), axes.map((i) => x.strides[i]!)],
    );
    return c.shape.map((size, k) => ({ size, strides: { xi: c.strides[1]![k]! } }));
  };
  const all = x.shape.map((_, i) => i);
  return { before: part(all.slice(0, axis)), after: part(all.slice(axis + 1)) };
}
