/**
 * A float32 step of bounded size, shared by the stand-in policy and the ramp fallback: moving a
 * float32 value toward a goal by at most δ, where the bound holds for the stored float32 values
 * themselves (rounding is corrected toward the start), so "no step larger than δ" can be checked exactly.
 * @module
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float32 neighbour of float32 `v` in the direction of `toward` (≠ v). */
function nudge(v: number, toward: number): number {
  if (v === 0) return toward > 0 ? 2 ** -149 : -(2 ** -149);
  f32[0] = v;
  u32[0] += v > 0 === toward > v ? 1 : -1;
  return f32[0]!;
}

/**
 * Float32 `from` moved toward `goal` by at most `maxStep`: fround(from + clamp(goal − from, ±maxStep)),
 * nudged back toward `from` while rounding made the step exceed `maxStep`.
 *
 * @example
 * boundedStep(0, 1, 0.1); // 0.1 rounded to float32 down to a value ≤ 0.1 away
 */
export function boundedStep(from: number, goal: number, maxStep: number): number {
  let v = Math.fround(from + Math.max(-maxStep, Math.min(maxStep, goal - from)));
  while (Math.abs(v - from) > maxStep) v = nudge(v, from);
  return v;
}
