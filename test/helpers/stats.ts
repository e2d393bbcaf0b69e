/**
 * Statistics for tests of samplers: sample moments with their standard errors, and Pearson's
 * chi-square goodness-of-fit p-value (regularized incomplete gamma by series and continued fraction,
 * as in Numerical Recipes §6.2, with a Lanczos log-gamma).
 */

/** Sample mean and (unbiased) variance, and the standard errors of each. */
export interface Moments {
  mean: number;
  variance: number;
  /** √(s²/n). */
  meanSE: number;
  /** √((m₄ − s⁴)/n), the large-sample standard error of the sample variance. */
  varianceSE: number;
}

/** The moments of `xs` (n ≥ 2). */
export function moments(xs: ArrayLike<number>): Moments {
  const n = xs.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += xs[i]!;
  mean /= n;
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = xs[i]! - mean;
    m2 += d * d;
    m4 += d * d * d * d;
  }
  const variance = m2 / (n - 1);
  m4 /= n;
  return { mean, variance, meanSE: Math.sqrt(variance / n), varianceSE: Math.sqrt(Math.max(m4 - variance * variance, 0) / n) };
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** log Γ(x) for x > 0 (Lanczos, g = 7; relative error ~1e-15). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0]!;
  for (let i = 1; i < 9; i++) s += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/** Q(a, x) = Γ(a, x)/Γ(a), the regularized upper incomplete gamma function (a > 0, x ≥ 0). */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const front = Math.exp(-x + a * Math.log(x) - logGamma(a));
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000 && Math.abs(term) > Math.abs(sum) * 1e-16; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return 1 - front * sum;
  }
  // Lentz's continued fraction for Γ(a, x).
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return front * h;
}

/** Pearson's statistic Σ (O − E)²/E and its p-value on `counts.length − 1` degrees of freedom. */
export function chiSquareTest(counts: readonly number[], probabilities: readonly number[]): { statistic: number; pValue: number } {
  const n = counts.reduce((s, c) => s + c, 0);
  let statistic = 0;
  counts.forEach((o, i) => {
    const e = n * probabilities[i]!;
    statistic += ((o - e) * (o - e)) / e;
  });
  return { statistic, pValue: gammaQ((counts.length - 1) / 2, statistic / 2) };
}
