/**
 * Recording and submitting GPU work: one command encoder collects copies and dispatches until a read
 * (or every {@link FLUSH_EVERY} dispatches) submits it, so queue order is program order. Compute
 * pipelines are cached by kernel key, uniform parameter blocks by content, and bind groups by pipeline
 * and buffers; buffers leaving the caches or the pool are destroyed only after the commands that use
 * them have been submitted.
 * @module
 */
import type { DType } from '../dtype.js';
import { USAGE, type WebGPUBuffer } from './buffer-pool.js';
import { paramsBytes } from './wgsl.js';

/** A compute kernel: `key` identifies the WGSL that `source` generates (the pipeline cache key). */
export interface Kernel {
  /** Unique per generated source. */
  readonly key: string;
  /** The WGSL source, with entry point `main`. */
  readonly source: () => string;
}

/** What kernel code needs from the backend: the context, output buffers, and the index-error flag. */
export interface KernelHost {
  /** The device and its command stream. */
  readonly ctx: GpuContext;
  /** A buffer for `size` elements of `dtype` with unspecified contents (kernels overwrite it); `op` names the caller. */
  output(op: string, dtype: DType, size: number): WebGPUBuffer;
  /** Frees a buffer from {@link output}. */
  free(buffer: WebGPUBuffer): void;
  /**
   * The index-error flag (4 u32: op code, bad index, axis size, axis) that gather and scatter-add set on
   * an out-of-range index; calling this marks it for checking at the next read.
   */
  indexErrorFlag(): GPUBuffer;
}

/** Dispatches recorded before the encoder is submitted without waiting for a read. */
const FLUSH_EVERY = 64;
/** Cached uniform blocks (each a small GPU buffer). */
const MAX_PARAMS = 4096;
/** Cached bind groups. */
const MAX_BIND_GROUPS = 4096;

interface CachedGroup {
  readonly group: GPUBindGroup;
  readonly ids: readonly number[];
}

/** Counts of the caches of a {@link GpuContext}. */
export interface GpuCacheStats {
  /** Compiled compute pipelines. */
  readonly pipelines: number;
  /** Cached bind groups. */
  readonly bindGroups: number;
  /** Cached uniform parameter buffers. */
  readonly paramBuffers: number;
}

/** The device, its command stream and its caches. */
export class GpuContext {
  /** The device everything runs on. */
  readonly device: GPUDevice;
  /** The most workgroups per dispatch dimension. */
  readonly maxGroupsPerDim: number;
  #encoder: GPUCommandEncoder | null = null;
  #recorded = 0;
  #doomed: GPUBuffer[] = [];
  readonly #pipelines = new Map<string, { pipeline: GPUComputePipeline; id: number }>();
  readonly #params = new Map<string, GPUBuffer>();
  readonly #groups = new Map<string, CachedGroup>();
  readonly #ids = new WeakMap<GPUBuffer, number>();
  readonly #groupsOf = new Map<number, Set<string>>();
  #nextId = 1;
  #error: string | null = null;

  /** Wraps `device`, listening for its uncaptured errors (reported by {@link takeError}). */
  constructor(device: GPUDevice) {
    this.device = device;
    this.maxGroupsPerDim = device.limits.maxComputeWorkgroupsPerDimension;
    const onError = (e: Event): void => {
      this.#error ??= (e as GPUUncapturedErrorEvent).error?.message ?? 'unknown GPU error';
    };
    if (typeof device.addEventListener === 'function') device.addEventListener('uncapturederror', onError);
    else (device as { onuncapturederror?: unknown }).onuncapturederror = onError;
  }

  /** The first uncaptured device error since the last call, if any. */
  takeError(): string | null {
    const e = this.#error;
    this.#error = null;
    return e;
  }

  /** The encoder that commands are recorded into. */
  encoder(): GPUCommandEncoder {
    return (this.#encoder ??= this.device.createCommandEncoder());
  }

  /** Submits what has been recorded, then destroys the buffers that were waiting for it. */
  flush(): void {
    if (this.#encoder !== null) {
      this.device.queue.submit([this.#encoder.finish()]);
      this.#encoder = null;
      this.#recorded = 0;
    }
    for (const b of this.#doomed) b.destroy();
    this.#doomed = [];
  }

  /** Destroys `b` once the commands recorded so far are submitted, and forgets bind groups that use it. */
  destroyLater(b: GPUBuffer): void {
    const id = this.#ids.get(b);
    if (id !== undefined) {
      for (const key of this.#groupsOf.get(id) ?? []) this.#dropGroup(key);
      this.#groupsOf.delete(id);
    }
    this.#doomed.push(b);
  }

  /**
   * Records one dispatch of `kernel` with the parameter block `params` (u32 values) at binding 0 and
   * `buffers` at bindings 1, 2, …, over `groups` workgroups (a count, laid out in two dimensions, or an
   * explicit `[x, y, z]`).
   */
  dispatch(kernel: Kernel, params: readonly number[], buffers: readonly GPUBuffer[], groups: number | readonly [number, number, number]): void {
    const [x, y, z] = typeof groups === 'number' ? this.#layout(groups) : groups;
    if (x === 0 || y === 0 || z === 0) return;
    const p = this.#pipeline(kernel);
    const all = [this.#paramBuffer(params), ...buffers];
    const pass = this.encoder().beginComputePass();
    pass.setPipeline(p.pipeline);
    pass.setBindGroup(0, this.#bindGroup(p.pipeline, p.id, all));
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
    if (++this.#recorded >= FLUSH_EVERY) this.flush();
  }

  /** The sizes of the caches. */
  stats(): GpuCacheStats {
    return { pipelines: this.#pipelines.size, bindGroups: this.#groups.size, paramBuffers: this.#params.size };
  }

  /** Drops every cached uniform buffer and bind group (the pipelines stay). */
  clearCaches(): void {
    for (const b of this.#params.values()) this.destroyLater(b);
    this.#params.clear();
    this.#groups.clear();
    this.#groupsOf.clear();
  }

  #layout(n: number): [number, number, number] {
    if (n === 0) return [0, 0, 0];
    const x = Math.min(n, this.maxGroupsPerDim);
    const y = Math.ceil(n / x);
    if (y > this.maxGroupsPerDim) throw new RangeError(`webgpu: ${n} workgroups exceed one dispatch (${this.maxGroupsPerDim}² at most)`);
    return [x, y, 1];
  }

  #pipeline(kernel: Kernel): { pipeline: GPUComputePipeline; id: number } {
    let p = this.#pipelines.get(kernel.key);
    if (p === undefined) {
      const module = this.device.createShaderModule({ code: kernel.source(), label: kernel.key });
      const pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: kernel.key });
      p = { pipeline, id: this.#pipelines.size + 1 };
      this.#pipelines.set(kernel.key, p);
    }
    return p;
  }

  /** A uniform buffer holding `params`, shared by every dispatch with the same values (never rewritten). */
  #paramBuffer(params: readonly number[]): GPUBuffer {
    const key = params.join(',');
    let b = this.#params.get(key);
    if (b !== undefined) {
      // Refresh its place in the least-recently-used order.
      this.#params.delete(key);
      this.#params.set(key, b);
      return b;
    }
    const bytes = paramsBytes(params.length);
    b = this.device.createBuffer({ size: bytes, usage: USAGE.UNIFORM, mappedAtCreation: true });
    const view = new Uint32Array(b.getMappedRange());
    for (let i = 0; i < params.length; i++) view[i] = params[i]! >>> 0;
    b.unmap();
    this.#params.set(key, b);
    if (this.#params.size > MAX_PARAMS) {
      const [oldKey, old] = this.#params.entries().next().value as [string, GPUBuffer];
      this.#params.delete(oldKey);
      this.destroyLater(old);
    }
    return b;
  }

  #id(b: GPUBuffer): number {
    let id = this.#ids.get(b);
    if (id === undefined) this.#ids.set(b, (id = this.#nextId++));
    return id;
  }

  #bindGroup(pipeline: GPUComputePipeline, pipelineId: number, buffers: readonly GPUBuffer[]): GPUBindGroup {
    const ids = buffers.map((b) => this.#id(b));
    const key = `${pipelineId}:${ids.join(',')}`;
    const hit = this.#groups.get(key);
    if (hit !== undefined) return hit.group;
    const group = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    this.#groups.set(key, { group, ids });
    for (const id of ids) {
      let s = this.#groupsOf.get(id);
      if (s === undefined) this.#groupsOf.set(id, (s = new Set()));
      s.add(key);
    }
    if (this.#groups.size > MAX_BIND_GROUPS) this.#dropGroup(this.#groups.keys().next().value as string);
    return group;
  }

  #dropGroup(key: string): void {
    const g = this.#groups.get(key);
    if (g === undefined) return;
    this.#groups.delete(key);
    for (const id of g.ids) {
      const s = this.#groupsOf.get(id);
      s?.delete(key);
      if (s?.size === 0) this.#groupsOf.delete(id);
    }
  }
}
