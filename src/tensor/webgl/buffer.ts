/**
 * A WebGL tensor buffer: a gpu.js float texture of `size` elements. int32 and bool elements are stored
 * as floats too, which is exact for |x| < 2^24 (bools are 0 and 1). A fresh buffer holds no texture
 * until it is written or read by a kernel (it reads as zeros), so `alloc` followed by `write` uploads once.
 * @module
 */
import type { DeviceBuffer } from '../backend.js';
import type { DType } from '../dtype.js';
import type { GpuJsTexture } from './gpujs.js';

/** A tensor's storage on the WebGL backend. */
export class WebGLBuffer implements DeviceBuffer {
  /** The element type. */
  readonly dtype: DType;
  /** The number of elements. */
  readonly size: number;
  #texture: GpuJsTexture | null = null;
  #freed = false;

  /** A buffer of `size` elements of `dtype` holding `texture`, or zeros when it is null. */
  constructor(dtype: DType, size: number, texture: GpuJsTexture | null = null) {
    this.dtype = dtype;
    this.size = size;
    this.#texture = texture;
  }

  /** The texture, or null while the buffer is all zeros (or empty); throws once freed. */
  get texture(): GpuJsTexture | null {
    if (this.#freed) throw new Error(`webgl: a ${this.dtype} buffer of ${this.size} elements was used after free (was its tensor disposed?)`);
    return this.#texture;
  }

  /** Whether {@link release} has run. */
  get freed(): boolean {
    return this.#freed;
  }

  /** Makes `texture` the buffer's contents, deleting the texture it replaces. */
  replace(texture: GpuJsTexture | null): void {
    const old = this.texture;
    this.#texture = texture;
    if (old !== null && old !== texture) old.delete();
  }

  /** Hands the texture over to the caller (who deletes it); the buffer is unusable afterwards. */
  detach(): GpuJsTexture | null {
    const t = this.texture;
    this.#freed = true;
    this.#texture = null;
    return t;
  }

  /** Deletes the texture; the buffer is unusable afterwards. */
  release(): void {
    const t = this.texture;
    this.#freed = true;
    this.#texture = null;
    t?.delete();
  }
}
