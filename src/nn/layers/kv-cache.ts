/**
 * Key/value caches for attention: incremental decoding (each call appends its keys and values, and
 * positions continue), and a fixed prefix reused across many suffix evaluations — the cached
 * vision-language prefix of the rectified-flow sampler (Eq. 20) and of UAC deployment (§6.3).
 *
 * Stored tensors are never written in place: appending builds new tensors. So a {@link KVCache.fork} is
 * cheap (it shares the stored tensors) and nothing done to a fork can change the original.
 * @module
 */
import { arange, broadcastShapes, concat, formatShape, noGrad, type Tensor } from '../../tensor/index.js';

/** What {@link LayerKVCache.update} returns: the keys and values to attend to (past, then new). */
export interface CachedKV {
  /** `[B, Hkv, past + T, headDim]`. */
  keys: Tensor;
  /** `[B, Hkv, past + T, valueDim]`. */
  values: Tensor;
}

/** Concatenates along `axis` after broadcasting the batch axis (0) of `past` and `next` to a common size. */
function appendAlong(op: string, past: Tensor, next: Tensor, axis: number): Tensor {
  const batch = broadcastShapes(op, [past.shape[0]!], [next.shape[0]!])[0]!;
  const widen = (t: Tensor): Tensor => (t.shape[0] === batch ? t : t.expand([batch, ...t.shape.slice(1)]));
  return concat([widen(past), widen(next)], axis);
}

/**
 * The cache of one attention layer: keys (after RoPE) and values `[B, Hkv, T, ·]`, and the int32
 * positions `[B or 1, T]` they were rotated with. Get it from {@link KVCache.layer}.
 */
export class LayerKVCache {
  #keys: Tensor | null = null;
  #values: Tensor | null = null;
  #positions: Tensor | null = null;

  /** @internal Use {@link KVCache.layer}; `from` gives the contents to share (a fork). */
  constructor(
    /** The cache this layer belongs to (its {@link KVCache.frozen} flag applies here). */
    readonly owner: KVCache,
    from?: LayerKVCache,
  ) {
    if (from) [this.#keys, this.#values, this.#positions] = [from.#keys, from.#values, from.#positions];
  }

  /** Cached keys `[B, Hkv, T, headDim]`, or null while empty. */
  get keys(): Tensor | null {
    return this.#keys;
  }

  /** Cached values `[B, Hkv, T, valueDim]`, or null while empty. */
  get values(): Tensor | null {
    return this.#values;
  }

  /** Positions of the cached keys, int32 `[B or 1, T]`, or null while empty. */
  get positions(): Tensor | null {
    return this.#positions;
  }

  /** Number of cached tokens. */
  get length(): number {
    return this.#keys === null ? 0 : this.#keys.shape[2]!;
  }

  /**
   * Default positions of `count` new tokens: each row continues from its largest cached position
   * (`max + 1, max + 2, …`), or counts from 0 when empty. Int32, `[B or 1, count]` (`[count]` when empty).
   * After aligned positions (Eq. 10) the largest position, not the length, is where a sequence continues.
   */
  nextPositions(count: number): Tensor {
    return noGrad(() => {
      const steps = arange(count);
      if (this.#positions === null) return steps;
      return this.#positions.max(-1, true).add(1).add(steps.unsqueeze(0));
    });
  }

  /**
   * Attends `keys`/`values` (`[B, Hkv, T, ·]`, keys already rotated) after the cached ones: returns
   * past followed by new. Stores the result unless the cache is {@link KVCache.frozen} — then the prefix
   * is read and left as it is. A cache of batch 1 serves a batch of any size.
   */
  update(keys: Tensor, values: Tensor, positions: Tensor): CachedKV {
    const T = keys.shape[2];
    if (keys.ndim !== 4 || values.ndim !== 4 || values.shape[2] !== T || values.shape[0] !== keys.shape[0] || values.shape[1] !== keys.shape[1]) {
      const got = `${formatShape(keys.shape)} and ${formatShape(values.shape)}`;
      throw new RangeError(`KVCache.update: expected keys [B, Hkv, T, Dk] and values [B, Hkv, T, Dv], got ${got}`);
    }
    const pos = positions.ndim === 1 ? positions.unsqueeze(0) : positions;
    if (positions.dtype !== 'int32' || pos.ndim !== 2 || pos.shape[1] !== T) {
      const got = `${positions.dtype} ${formatShape(positions.shape)}`;
      throw new RangeError(`KVCache.update: positions must be int32 [T] or [B, T] with T = ${T}, got ${got}`);
    }
    let out: CachedKV = { keys, values };
    let allPos = pos;
    if (this.#keys !== null) {
      const [pk, pv] = [this.#keys, this.#values!];
      if (pk.shape[1] !== keys.shape[1] || pk.shape[3] !== keys.shape[3] || pv.shape[3] !== values.shape[3]) {
        const [nk, nv, ck, cv] = [keys, values, pk, pv].map((t) => formatShape(t.shape));
        throw new RangeError(`KVCache.update: new keys ${nk} / values ${nv} do not match the cached ${ck} / ${cv}`);
      }
      out = { keys: appendAlong('KVCache.update', pk, keys, 2), values: appendAlong('KVCache.update', pv, values, 2) };
      allPos = appendAlong('KVCache.update', this.#positions!, pos, 1);
    }
    if (!this.owner.frozen) {
      this.#keys = out.keys;
      this.#values = out.values;
      this.#positions = allPos;
    }
    return out;
  }

  /** Keeps the first `length` tokens (prefer {@link KVCache.crop}, which keeps the layers in step). */
  crop(length: number): void {
    if (this.owner.frozen) throw new Error('KVCache.crop: the cache is frozen');
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`KVCache.crop: length must be a non-negative integer, got ${length}`);
    if (this.#keys === null || length >= this.length) return;
    if (length === 0) {
      [this.#keys, this.#values, this.#positions] = [null, null, null];
      return;
    }
    this.#keys = this.#keys.narrow(2, 0, length);
    this.#values = this.#values!.narrow(2, 0, length);
    this.#positions = this.#positions!.narrow(1, 0, length);
  }
}

/**
 * The keys and values of every attention layer of a model, for incremental decoding and prefix reuse.
 * Pass `cache.layer(i)` as the `cache` option of the i-th attention layer. Cached tensors keep their
 * autograd history, so fill caches for inference under `noGrad`.
 *
 * @example
 * // Decoding: each call appends, positions continue.
 * const cache = new KVCache();
 * for (const tok of tokens) y = attn.forward(embed(tok), { cache: cache.layer(0), causal: true });
 *
 * // Prefix reuse: compute the prefix once, then evaluate any number of suffixes against it.
 * const prefix = new KVCache();
 * attn.forward(prefixTokens, { cache: prefix.layer(0) });
 * prefix.freeze();                                   // read-only: suffixes attend to it, nothing is stored
 * for (const s of suffixes) attn.forward(s, { cache: prefix.layer(0) });
 * const c = prefix.fork();                           // or a writable copy that shares the prefix
 */
export class KVCache {
  #layers: LayerKVCache[] = [];
  #frozen = false;

  /** The cache of layer `i` (created empty on first use). */
  layer(i: number): LayerKVCache {
    if (!Number.isInteger(i) || i < 0) throw new RangeError(`KVCache.layer: index must be a non-negative integer, got ${i}`);
    while (this.#layers.length <= i) this.#layers.push(new LayerKVCache(this));
    return this.#layers[i]!;
  }

  /** Number of layers used so far. */
  get numLayers(): number {
    return this.#layers.length;
  }

  /** Number of tokens cached in layer 0 (0 when empty). */
  get length(): number {
    return this.#layers[0]?.length ?? 0;
  }

  /** True after {@link freeze}: layers still answer {@link LayerKVCache.update} but store nothing. */
  get frozen(): boolean {
    return this.#frozen;
  }

  /**
   * Makes the cache read-only, so a fixed prefix can be reused: each attention call then attends to the
   * prefix plus its own tokens and leaves the prefix unchanged. Returns this.
   */
  freeze(): this {
    this.#frozen = true;
    return this;
  }

  /**
   * A writable cache with the same contents, sharing the stored tensors (no copy). Appending to either
   * never changes the other.
   */
  fork(): KVCache {
    const c = new KVCache();
    c.#layers = this.#layers.map((l) => new LayerKVCache(c, l));
    return c;
  }

  /** Drops every token after the first `length` in every layer (undoing appends); returns this. */
  crop(length: number): this {
    if (this.#frozen) throw new Error('KVCache.crop: the cache is frozen');
    for (const l of this.#layers) l.crop(length);
    return this;
  }
}
