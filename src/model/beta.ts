/**
 * Gamma and Beta variates drawn from a seeded {@link Generator}, for flow-matching time sampling
 * (t = (s − B)/s with B ~ Beta(1.5, 1), the convention of DESIGN.md beside Eq. 7).
 *
 * Gamma(α, 1) by Marsaglia and Tsang (2000), "A simple method for generating gamma variables": for
 * α ≥ 1, with d = α − 1/3 and c = 1/√(9d), draw x ~ N(0, 1) and v = (1 + c·x)³ (v > 0), u ~ U(0, 1),
 * and accept d·v when u < 1 − 0.0331·x⁴ or log u < x²/2 + d·(1 − v + log v). For α < 1 the boost
 * Gamma(α) = Gamma(α + 1)·U^(1/α). Beta(α, β) = X/(X + Y) with X ~ Gamma(α), Y ~ Gamma(β), formed from
 * log X and log Y so that tiny shapes (whose Gamma variates underflow to 0) still give a value in [0, 1].
 *
 * Every variate uses only `generator.uniform()` and `generator.normal()`, so one seed gives one stream
 * of values, bit for bit.
 * @module
 */
import { checkShape, defaultGenerator, tensor, type Generator, type RandomOptions, type Tensor } from '../tensor/index.js';

function checkShapeParam(fn: string, name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${fn}: ${name} must be a finite number > 0, got ${value}`);
  }
}

/** log of a Gamma(α ≥ 1, 1) variate (Marsaglia–Tsang squeeze and rejection). */
function logGammaAtLeastOne(alpha: number, g: Generator): number {
  const d = alpha - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = g.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = g.uniform();
    const x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2) return Math.log(d) + Math.log(v);
    if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return Math.log(d) + Math.log(v);
  }
}

/** log of a Gamma(α, 1) variate, α > 0; finite for every α (the boost's U is drawn in (0, 1]). */
function logGammaVariate(alpha: number, g: Generator): number {
  if (alpha >= 1) return logGammaAtLeastOne(alpha, g);
  // The α < 1 boost: Gamma(α) = Gamma(α + 1)·U^(1/α), U ~ U(0, 1].
  const lg = logGammaAtLeastOne(alpha + 1, g);
  return lg + Math.log(1 - g.uniform()) / alpha;
}

/** X/(X + Y) from log X and log Y, written so that the smaller ratio is computed directly (no 0/0). */
function ratioFromLogs(logX: number, logY: number): number {
  if (logX >= logY) return 1 / (1 + Math.exp(logY - logX));
  const e = Math.exp(logX - logY);
  return e / (1 + e);
}

/**
 * One Gamma(α, 1) variate (shape α > 0, scale 1; mean α, variance α), by Marsaglia–Tsang with the
 * α < 1 boost. Uses the global generator when none is given.
 *
 * @example
 * const x = gammaVariate(2.5, new Generator(0));
 */
export function gammaVariate(alpha: number, generator?: Generator): number {
  checkShapeParam('gammaVariate', 'alpha', alpha);
  return Math.exp(logGammaVariate(alpha, generator ?? defaultGenerator()));
}

/**
 * One Beta(α, β) variate in [0, 1] (mean α/(α + β), variance αβ/((α + β)²(α + β + 1))), as
 * X/(X + Y) of two Gamma variates, X drawn first. Uses the global generator when none is given.
 *
 * @example
 * const b = betaVariate(1.5, 1, new Generator(0));
 */
export function betaVariate(alpha: number, beta: number, generator?: Generator): number {
  checkShapeParam('betaVariate', 'alpha', alpha);
  checkShapeParam('betaVariate', 'beta', beta);
  const g = generator ?? defaultGenerator();
  const logX = logGammaVariate(alpha, g);
  const logY = logGammaVariate(beta, g);
  return ratioFromLogs(logX, logY);
}

function fill(fn: string, shape: readonly number[], opts: RandomOptions, draw: (g: Generator) => number): Tensor {
  const s = checkShape(fn, shape);
  const n = s.reduce((p, d) => p * d, 1);
  const g = opts.generator ?? defaultGenerator();
  const host = new Float64Array(n);
  for (let i = 0; i < n; i++) host[i] = draw(g);
  return tensor(host, { shape: s, dtype: opts.dtype ?? 'float32', ...(opts.requiresGrad ? { requiresGrad: true } : {}) });
}

/**
 * A tensor of independent Gamma(α, 1) variates (float32 unless `dtype` says otherwise), drawn in
 * row-major order with {@link gammaVariate}.
 *
 * @example
 * const g = sampleGamma([1000], 0.5, { generator: new Generator(1), dtype: 'float64' });
 */
export function sampleGamma(shape: readonly number[], alpha: number, opts: RandomOptions = {}): Tensor {
  checkShapeParam('sampleGamma', 'alpha', alpha);
  return fill('sampleGamma', shape, opts, (g) => Math.exp(logGammaVariate(alpha, g)));
}

/**
 * A tensor of independent Beta(α, β) variates (float32 unless `dtype` says otherwise), drawn in
 * row-major order with {@link betaVariate}.
 *
 * @example
 * const b = sampleBeta([64], 1.5, 1, { generator: new Generator(1) });
 */
export function sampleBeta(shape: readonly number[], alpha: number, beta: number, opts: RandomOptions = {}): Tensor {
  checkShapeParam('sampleBeta', 'alpha', alpha);
  checkShapeParam('sampleBeta', 'beta', beta);
  return fill('sampleBeta', shape, opts, (g) => {
    const logX = logGammaVariate(alpha, g);
    return ratioFromLogs(logX, logGammaVariate(beta, g));
  });
}
