/**
 * Planar serial-chain kinematics for the tabletop arms. Joint i turns link i about the z axis (up, out
 * of the table); angles are relative to the previous link, so link i points along φ_i = q_0 + … + q_i and
 *
 *   forward kinematics:  p = b + Σ_i l_i (cos φ_i, sin φ_i),   yaw = φ_{n−1} (wrapped to (−π, π]).
 *
 * Inverse kinematics: analytic for two links (both elbow branches, inside the joint limits, the one
 * nearest the start when both reach); for three or more links, task-priority damped least squares
 * (position first, yaw in the position task's null space, an optional rest posture last), with joint
 * limits enforced by clamping and by locking joints that sit at a limit and would be pushed past it.
 * An unreachable target gives the closest configuration found: the arm "goes as far as it can".
 * @module
 */
import type { Point2 } from './scene.js';

/** A planar arm: base point, link lengths and joint limits (rad), one limit pair per link. */
export interface PlanarChain {
  /** Base (first joint) position, metres. */
  readonly base: Point2;
  /** Link lengths, metres, base to tip. */
  readonly links: readonly number[];
  /** Lower joint limits, rad. */
  readonly lower: readonly number[];
  /** Upper joint limits, rad. */
  readonly upper: readonly number[];
}

/** A planar pose: position (m) and heading (rad). */
export interface PlanarPose {
  /** x, metres. */
  readonly x: number;
  /** y, metres. */
  readonly y: number;
  /** Heading of the last link, rad, in (−π, π]. */
  readonly yaw: number;
}

/** An IK target: a position, and optionally a heading. */
export interface IKTarget {
  /** x, metres. */
  readonly x: number;
  /** y, metres. */
  readonly y: number;
  /** Heading, rad (ignored by two-link arms, which cannot choose it). */
  readonly yaw?: number;
}

/** Options of {@link solveIK}. */
export interface IKOptions {
  /** Iterations of damped least squares (default 50). */
  readonly maxIterations?: number;
  /** Stop when the position error is below this, and the heading error below it in rad (default 1e-10). */
  readonly tolerance?: number;
  /** λ, the damping of the pseudo-inverses far from the target (default 0.02); it shrinks in proportion to the error within 1 cm. */
  readonly damping?: number;
  /** A rest posture pulled towards in what is left of the null space (default none). */
  readonly rest?: ArrayLike<number>;
  /** Gain of the rest-posture pull per iteration (default 0.05). */
  readonly restGain?: number;
  /** When the start does not converge, also start from the limits' midpoint and a few fixed postures and keep the best (default false). */
  readonly restarts?: boolean;
}

/** The result of {@link solveIK}. */
export interface IKResult {
  /** Joint angles, inside the limits. */
  readonly q: Float64Array;
  /** Distance from the reached position to the target position, metres. */
  readonly positionError: number;
  /** |wrapped heading difference|, rad (0 when the target has no yaw or the arm has two links). */
  readonly yawError: number;
}

/** Wraps an angle to (−π, π]. */
export function wrapAngle(a: number): number {
  const w = a - 2 * Math.PI * Math.floor((a + Math.PI) / (2 * Math.PI));
  return w === -Math.PI ? Math.PI : w;
}

function checkChain(fn: string, chain: PlanarChain, q?: ArrayLike<number>): void {
  const n = chain.links.length;
  if (n < 2 || chain.lower.length !== n || chain.upper.length !== n) throw new RangeError(`${fn}: a chain needs ≥ 2 links and one limit pair per link, got ${n} links, ${chain.lower.length}/${chain.upper.length} limits`);
  if (q !== undefined) {
    if (q.length !== n) throw new RangeError(`${fn}: expected ${n} joint angles, got ${q.length}`);
    for (let i = 0; i < n; i++) if (!Number.isFinite(q[i]!)) throw new RangeError(`${fn}: joint angle ${i} is ${q[i]}`);
  }
}

/** The base, every joint and the tip of the chain at `q` (n + 1 points). */
export function chainPoints(chain: PlanarChain, q: ArrayLike<number>): Point2[] {
  const pts: Point2[] = [{ x: chain.base.x, y: chain.base.y }];
  let x = chain.base.x;
  let y = chain.base.y;
  let phi = 0;
  for (let i = 0; i < chain.links.length; i++) {
    phi += q[i]!;
    x += chain.links[i]! * Math.cos(phi);
    y += chain.links[i]! * Math.sin(phi);
    pts.push({ x, y });
  }
  return pts;
}

/** Forward kinematics of the module doc: the tip's position and heading at `q`. */
export function forwardKinematics(chain: PlanarChain, q: ArrayLike<number>): PlanarPose {
  checkChain('forwardKinematics', chain, q);
  let x = chain.base.x;
  let y = chain.base.y;
  let phi = 0;
  for (let i = 0; i < chain.links.length; i++) {
    phi += q[i]!;
    x += chain.links[i]! * Math.cos(phi);
    y += chain.links[i]! * Math.sin(phi);
  }
  return { x, y, yaw: wrapAngle(phi) };
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** The angle equal to `a` modulo 2π nearest the middle of [lo, hi]. */
function nearestTurn(a: number, lo: number, hi: number): number {
  const mid = (lo + hi) / 2;
  return a + 2 * Math.PI * Math.round((mid - a) / (2 * Math.PI));
}

function twoLink(chain: PlanarChain, target: IKTarget, q0: ArrayLike<number>): Float64Array {
  const [l1, l2] = chain.links as [number, number];
  const dx = target.x - chain.base.x;
  const dy = target.y - chain.base.y;
  const r = Math.hypot(dx, dy);
  const rc = clamp(r, Math.abs(l1 - l2) + 1e-12, l1 + l2 - 1e-12);
  const heading = r > 0 ? Math.atan2(dy, dx) : q0[0]!;
  const c2 = clamp((rc * rc - l1 * l1 - l2 * l2) / (2 * l1 * l2), -1, 1);
  let best: Float64Array | null = null;
  let bestErr = Infinity;
  let bestMove = Infinity;
  for (const s of [1, -1]) {
    const t2 = s * Math.acos(c2);
    const t1 = nearestTurn(heading - Math.atan2(l2 * Math.sin(t2), l1 + l2 * Math.cos(t2)), chain.lower[0]!, chain.upper[0]!);
    const q = Float64Array.of(clamp(t1, chain.lower[0]!, chain.upper[0]!), clamp(t2, chain.lower[1]!, chain.upper[1]!));
    const p = forwardKinematics(chain, q);
    const err = Math.hypot(p.x - target.x, p.y - target.y);
    const move = Math.abs(q[0]! - q0[0]!) + Math.abs(q[1]! - q0[1]!);
    if (err < bestErr - 1e-9 || (Math.abs(err - bestErr) <= 1e-9 && move < bestMove)) [best, bestErr, bestMove] = [q, err, move];
  }
  return best!;
}

/** The inverse of a symmetric positive-definite m×m matrix, m ∈ {1, 2, 3} (closed form). */
function invSmall(A: number[][]): number[][] {
  const m = A.length;
  if (m === 1) return [[1 / A[0]![0]!]];
  if (m === 2) {
    const [[a, b], [c, d]] = A as [[number, number], [number, number]];
    const det = a * d - b * c;
    return [[d / det, -b / det], [-c / det, a / det]];
  }
  const [[a, b, c], [d, e, f], [g, h, i]] = A as [[number, number, number], [number, number, number], [number, number, number]];
  const A0 = e * i - f * h;
  const B0 = -(d * i - f * g);
  const C0 = d * h - e * g;
  const det = a * A0 + b * B0 + c * C0;
  return [
    [A0 / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B0 / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C0 / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}

/** The damped pseudo-inverse Jᵀ (J Jᵀ + λ² I)⁻¹ (n×m) of J given as m ≤ 3 rows of length n. */
function pinv(J: readonly number[][], lambda2: number): number[][] {
  const m = J.length;
  const n = J[0]!.length;
  const A: number[][] = [];
  for (let i = 0; i < m; i++) {
    const row: number[] = [];
    for (let j = 0; j < m; j++) {
      let s = i === j ? lambda2 : 0;
      for (let k = 0; k < n; k++) s += J[i]![k]! * J[j]![k]!;
      row.push(s);
    }
    A.push(row);
  }
  const Ai = invSmall(A);
  const P: number[][] = [];
  for (let k = 0; k < n; k++) {
    const row: number[] = [];
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += J[i]![k]! * Ai[i]![j]!;
      row.push(s);
    }
    P.push(row);
  }
  return P;
}

const matVec = (M: readonly number[][], v: readonly number[]): number[] => M.map((r) => r.reduce((s, x, k) => s + x * v[k]!, 0));

/**
 * The damping (λ²) of the null-space projectors: tiny, so that a secondary task does not leak into the
 * primary one; the projector's eigenvalues σ²/(σ² + λ²) stay in [0, 1] even at a singularity.
 */
const PROJECTOR_DAMPING = 1e-12;

/** I − J⁺J (n×n), J⁺ with the tiny projector damping. */
function nullProjector(J: readonly number[][]): number[][] {
  const P = pinv(J, PROJECTOR_DAMPING);
  const n = P.length;
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0) - P[i]!.reduce((s, x, r) => s + x * J[r]![j]!, 0)));
}

function dls(chain: PlanarChain, target: IKTarget, q0: ArrayLike<number>, opts: IKOptions): Float64Array {
  const n = chain.links.length;
  const iterations = opts.maxIterations ?? 50;
  const tol = opts.tolerance ?? 1e-10;
  const lambda02 = (opts.damping ?? 0.02) ** 2;
  const gain = opts.restGain ?? 0.05;
  const q = Float64Array.from({ length: n }, (_, i) => clamp(q0[i]!, chain.lower[i]!, chain.upper[i]!));
  const hasYaw = target.yaw !== undefined;
  for (let it = 0; it < iterations; it++) {
    const pts = chainPoints(chain, q);
    const tip = pts[n]!;
    let phi = 0;
    for (let i = 0; i < n; i++) phi += q[i]!;
    const ep = [target.x - tip.x, target.y - tip.y];
    const ey = hasYaw ? wrapAngle(target.yaw! - phi) : 0;
    if (Math.hypot(ep[0]!, ep[1]!) < tol && Math.abs(ey) < tol) break;
    // Levenberg-Marquardt-style damping: full λ² far from the target, vanishing near it, so that
    // targets at a singularity (a stretched arm) still converge.
    const lambda2 = lambda02 * Math.min(1, (Math.hypot(ep[0]!, ep[1]!) + 0.1 * Math.abs(ey)) / 0.01);
    const locked = new Array<boolean>(n).fill(false);
    let delta: number[] = [];
    // Re-solve with joints locked while a step would push a joint at its limit past it.
    for (let pass = 0; pass <= n; pass++) {
      const Jp = [
        Array.from({ length: n }, (_, i) => (locked[i] ? 0 : -(tip.y - pts[i]!.y))),
        Array.from({ length: n }, (_, i) => (locked[i] ? 0 : tip.x - pts[i]!.x)),
      ];
      delta = matVec(pinv(Jp, lambda2), ep);
      const Jy: number[] = Array.from({ length: n }, (_, i) => (locked[i] ? 0 : 1));
      let Jfull = Jp;
      if (hasYaw) {
        // Yaw in the position task's null space: Δ += (Jy Np)⁺ (e_yaw − Jy Δ).
        const Np = nullProjector(Jp);
        const Jt = Jy.map((_, k) => Jy.reduce((s, v, i) => s + v * Np[i]![k]!, 0));
        const resid = ey - Jy.reduce((s, v, i) => s + v * delta[i]!, 0);
        const norm2 = Jt.reduce((s, v) => s + v * v, 0);
        delta = delta.map((d, i) => d + (Jt[i]! * resid) / (norm2 + lambda2));
        Jfull = [...Jp, Jy];
      }
      if (opts.rest !== undefined && n > Jfull.length) {
        const N = nullProjector(Jfull);
        const pull = Array.from({ length: n }, (_, i) => (locked[i] ? 0 : gain * (opts.rest![i]! - q[i]!)));
        delta = delta.map((d, i) => d + N[i]!.reduce((s, v, k) => s + v * pull[k]!, 0));
      }
      let newly = false;
      for (let i = 0; i < n; i++) {
        if (locked[i]) continue;
        const next = q[i]! + delta[i]!;
        if ((next < chain.lower[i]! && q[i]! <= chain.lower[i]! + 1e-12) || (next > chain.upper[i]! && q[i]! >= chain.upper[i]! - 1e-12)) {
          locked[i] = true;
          newly = true;
        }
      }
      if (!newly) break;
    }
    const big = Math.max(...delta.map((d, i) => (locked[i] ? 0 : Math.abs(d))));
    if (big < 1e-12) break; // converged to the best compromise (an unreachable target)
    const scale = big > 0.25 ? 0.25 / big : 1;
    for (let i = 0; i < n; i++) if (!locked[i]) q[i] = clamp(q[i]! + scale * delta[i]!, chain.lower[i]!, chain.upper[i]!);
  }
  return q;
}

function errors(chain: PlanarChain, target: IKTarget, q: Float64Array): IKResult {
  const p = forwardKinematics(chain, q);
  const yawError = target.yaw === undefined || chain.links.length === 2 ? 0 : Math.abs(wrapAngle(target.yaw - p.yaw));
  return { q, positionError: Math.hypot(p.x - target.x, p.y - target.y), yawError };
}

/**
 * Inverse kinematics of the module doc, from the start posture `q0`. The result always lies inside the
 * joint limits; check `positionError` to see whether the target was reached.
 */
export function solveIK(chain: PlanarChain, target: IKTarget, q0: ArrayLike<number>, opts: IKOptions = {}): IKResult {
  checkChain('solveIK', chain, q0);
  if (!Number.isFinite(target?.x) || !Number.isFinite(target?.y) || (target.yaw !== undefined && !Number.isFinite(target.yaw))) {
    throw new RangeError(`solveIK: target must have finite x, y (and yaw), got ${JSON.stringify(target)}`);
  }
  if (chain.links.length === 2) return errors(chain, target, twoLink(chain, target, q0));
  let best = errors(chain, target, dls(chain, target, q0, opts));
  const tol = Math.max(1e-6, opts.tolerance ?? 1e-10);
  if (opts.restarts && (best.positionError > tol || best.yawError > tol)) {
    // Deterministic starts: uniform fractions of every joint's range, then alternating ones (elbow up/down).
    const at = (f: (i: number) => number) => chain.lower.map((lo, i) => lo + f(i) * (chain.upper[i]! - lo));
    const starts = [0.5, 0.25, 0.75, 0.1, 0.9].flatMap((f) => [at(() => f), at((i) => (i % 2 === 0 ? f : 1 - f))]);
    for (const s of starts) {
      const r = errors(chain, target, dls(chain, target, s, { ...opts, maxIterations: Math.max(100, opts.maxIterations ?? 50) }));
      const score = (x: IKResult) => x.positionError + 0.01 * x.yawError;
      if (score(r) < score(best)) best = r;
      if (best.positionError <= tol && best.yawError <= tol) break;
    }
  }
  return best;
}
