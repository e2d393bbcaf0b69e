/**
 * Initialisers, as `torch.nn.init`: each fills a tensor in place (under no-grad) from a seeded
 * `Generator` and returns it. Fans follow PyTorch: for a weight of shape `[out, in, ...k]`,
 * fanIn = in·Πk and fanOut = out·Πk.
 * @module
 */
import { defaultGenerator, noGrad, tensor, type Generator, type Tensor } from '../tensor/index.js';

/** Options shared by the initialisers. */
export interface InitOptions {
  /** The random source (the global generator when omitted). */
  generator?: Generator;
}

/** `[fanIn, fanOut]` of a weight shaped `[out, in, ...kernel]`. */
export function fans(shape: readonly number[]): [number, number] {
  if (shape.length < 2) throw new RangeError(`init: fan in and fan out need at least 2 axes, got [${shape.join(',')}]`);
  const receptive = shape.slice(2).reduce((p, d) => p * d, 1);
  return [shape[1]! * receptive, shape[0]! * receptive];
}

function fill(t: Tensor, opts: InitOptions, sample: (g: Generator) => number): Tensor {
  const g = opts.generator ?? defaultGenerator();
  const host = new Float64Array(t.size);
  for (let i = 0; i < host.length; i++) host[i] = sample(g);
  // Converted on the host (the same rounding as a cast), so backends without float64 (webgpu) work too.
  noGrad(() => t.copy_(tensor(host, { shape: t.shape, dtype: t.dtype })));
  return t;
}

/** Fills with U(low, high). */
export function uniform_(t: Tensor, low = 0, high = 1, opts: InitOptions = {}): Tensor {
  if (!(high >= low)) throw new RangeError(`uniform_: need low ≤ high, got ${low}, ${high}`);
  return fill(t, opts, (g) => low + (high - low) * g.uniform());
}

/** Fills with N(mean, std²). */
export function normal_(t: Tensor, mean = 0, std = 1, opts: InitOptions = {}): Tensor {
  if (!(std >= 0)) throw new RangeError(`normal_: std must be non-negative, got ${std}`);
  return fill(t, opts, (g) => mean + std * g.normal());
}

/**
 * Fills with N(mean, std²) truncated to `[a, b]` (absolute bounds, as `torch.nn.init.trunc_normal_`),
 * by rejection, so the distribution is exact.
 */
export function truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2, opts: InitOptions = {}): Tensor {
  if (!(a < b)) throw new RangeError(`truncNormal_: need a < b, got ${a}, ${b}`);
  if (!(std > 0)) throw new RangeError(`truncNormal_: std must be positive, got ${std}`);
  // Rejection is only practical when [a, b] holds real mass; demand at least ~1e-6 of it.
  const z = (x: number): number => (x - mean) / std;
  if (z(b) < -5 || z(a) > 5) throw new RangeError(`truncNormal_: [${a}, ${b}] lies too far in the tail of N(${mean}, ${std}²)`);
  return fill(t, opts, (g) => {
    for (;;) {
      const v = mean + std * g.normal();
      if (v >= a && v <= b) return v;
    }
  });
}

/** The recommended gain for a nonlinearity, as `torch.nn.init.calculate_gain`. */
export function calculateGain(nonlinearity: 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu', param = 0.01): number {
  switch (nonlinearity) {
    case 'linear':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu':
      return Math.sqrt(2 / (1 + param * param));
    case 'selu':
      return 3 / 4;
  }
}

/** Xavier/Glorot uniform: U(−g·√(6/(fanIn+fanOut)), +…). */
export function xavierUniform_(t: Tensor, gain = 1, opts: InitOptions = {}): Tensor {
  const [fi, fo] = fans(t.shape);
  const bound = gain * Math.sqrt(6 / (fi + fo));
  return uniform_(t, -bound, bound, opts);
}

/** Xavier/Glorot normal: N(0, g²·2/(fanIn+fanOut)). */
export function xavierNormal_(t: Tensor, gain = 1, opts: InitOptions = {}): Tensor {
  const [fi, fo] = fans(t.shape);
  return normal_(t, 0, gain * Math.sqrt(2 / (fi + fo)), opts);
}

/** Options of the Kaiming initialisers. */
export interface KaimingOptions extends InitOptions {
  /** Negative slope of the leaky ReLU that follows (PyTorch's `a`; 0 by default). */
  a?: number;
  /** Preserve the variance of the forward pass (`fanIn`, default) or of the backward pass (`fanOut`). */
  mode?: 'fanIn' | 'fanOut';
  /** The nonlinearity that follows (default `leaky_relu`, as PyTorch). */
  nonlinearity?: 'relu' | 'leaky_relu' | 'linear' | 'tanh' | 'sigmoid';
}

function kaimingStd(t: Tensor, opts: KaimingOptions): number {
  const [fi, fo] = fans(t.shape);
  const fan = (opts.mode ?? 'fanIn') === 'fanIn' ? fi : fo;
  const gain = calculateGain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0);
  return gain / Math.sqrt(fan);
}

/** Kaiming/He uniform: U(−√3·std, +√3·std) with std = gain/√fan. */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, opts);
  return uniform_(t, -bound, bound, opts);
}

/** Kaiming/He normal: N(0, std²) with std = gain/√fan. */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, opts), opts);
}
