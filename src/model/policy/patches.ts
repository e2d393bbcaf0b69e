/**
 * Images to patch vectors and back, and the merging of neighbouring patch tokens, by reshape and
 * permute alone (no convolution): a `p × p` patch of a `[C, H, W]` image becomes one row of `C·p·p`
 * numbers, ordered (channel, row, column) — the order of a `[width, C, p, p]` convolution kernel, so a
 * ViT's conv patch embedding reshaped to `[width, C·p·p]` is the weight of the equivalent `Linear`.
 * @module
 */
import { formatShape, type Tensor } from '../../tensor/index.js';

function checkSide(fn: string, what: string, side: number, by: number, shape: readonly number[]): void {
  if (side % by !== 0) throw new RangeError(`${fn}: ${what} ${side} of ${formatShape(shape)} is not divisible by ${by}`);
}

/**
 * `[B, C, H, W]` images → `[B, (H/p)·(W/p), C·p·p]` patch vectors, patches in row-major order over the
 * grid, each flattened as (channel, row, column). H and W must be multiples of `patchSize`.
 *
 * @example
 * patchify(images, 8); // [2, 3, 32, 32] → [2, 16, 192]
 */
export function patchify(images: Tensor, patchSize: number): Tensor {
  const fn = 'patchify';
  if (!Number.isInteger(patchSize) || patchSize < 1) throw new RangeError(`${fn}: patchSize must be a positive integer, got ${patchSize}`);
  if (images.ndim !== 4) throw new RangeError(`${fn}: expected images [B, C, H, W], got ${formatShape(images.shape)}`);
  const [B, C, H, W] = images.shape as [number, number, number, number];
  const p = patchSize;
  checkSide(fn, 'height', H, p, images.shape);
  checkSide(fn, 'width', W, p, images.shape);
  const gh = H / p;
  const gw = W / p;
  return images.reshape([B, C, gh, p, gw, p]).permute([0, 2, 4, 1, 3, 5]).reshape([B, gh * gw, C * p * p]);
}

/** The image geometry {@link unpatchify} rebuilds. */
export interface ImageGeometry {
  /** Channels C. */
  channels: number;
  /** Height H in pixels (a multiple of the patch size). */
  height: number;
  /** Width W in pixels (a multiple of the patch size). */
  width: number;
}

/** The inverse of {@link patchify}: `[B, (H/p)·(W/p), C·p·p]` → `[B, C, H, W]`. */
export function unpatchify(patches: Tensor, patchSize: number, geometry: ImageGeometry): Tensor {
  const fn = 'unpatchify';
  const { channels: C, height: H, width: W } = geometry;
  const p = patchSize;
  if (!Number.isInteger(p) || p < 1) throw new RangeError(`${fn}: patchSize must be a positive integer, got ${p}`);
  for (const [name, v] of [['channels', C], ['height', H], ['width', W]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${fn}: ${name} must be a positive integer, got ${v}`);
  }
  checkSide(fn, 'height', H, p, [C, H, W]);
  checkSide(fn, 'width', W, p, [C, H, W]);
  const gh = H / p;
  const gw = W / p;
  if (patches.ndim !== 3 || patches.shape[1] !== gh * gw || patches.shape[2] !== C * p * p) {
    throw new RangeError(`${fn}: expected patches [B, ${gh * gw}, ${C * p * p}] for ${C}×${H}×${W} images in ${p}×${p} patches, got ${formatShape(patches.shape)}`);
  }
  const B = patches.shape[0]!;
  return patches.reshape([B, gh, gw, C, p, p]).permute([0, 3, 1, 4, 2, 5]).reshape([B, C, H, W]);
}

/**
 * Merges each `s × s` block of neighbouring tokens of a `gridHeight × gridWidth` token grid into one
 * token (space-to-depth; InternVL's "pixel shuffle" with scale 1/s): `[B, gh·gw, D]` →
 * `[B, (gh/s)·(gw/s), s·s·D]`, blocks in row-major order, each concatenating its tokens row by row.
 */
export function mergeTokens(tokens: Tensor, gridHeight: number, gridWidth: number, s: number): Tensor {
  const fn = 'mergeTokens';
  if (!Number.isInteger(s) || s < 1) throw new RangeError(`${fn}: merge factor must be a positive integer, got ${s}`);
  if (tokens.ndim !== 3 || tokens.shape[1] !== gridHeight * gridWidth) {
    throw new RangeError(`${fn}: expected tokens [B, ${gridHeight}·${gridWidth}, D], got ${formatShape(tokens.shape)}`);
  }
  checkSide(fn, 'grid height', gridHeight, s, [gridHeight, gridWidth]);
  checkSide(fn, 'grid width', gridWidth, s, [gridHeight, gridWidth]);
  if (s === 1) return tokens;
  const [B, , D] = tokens.shape as [number, number, number];
  const mh = gridHeight / s;
  const mw = gridWidth / s;
  return tokens.reshape([B, mh, s, mw, s, D]).permute([0, 1, 3, 2, 4, 5]).reshape([B, mh * mw, s * s * D]);
}
