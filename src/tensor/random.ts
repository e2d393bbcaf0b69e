/**
 * Seeded random numbers. Every random op takes an optional `Generator`; without one it uses the global
 * generator that {@link manualSeed} reseeds. The same seed gives the same numbers, bit for bit.
 * @module
 */
import seedrandom from 'seedrandom';

/** A seeded source of random numbers (seedrandom's Alea underneath), as `torch.Generator`. */
export class Generator {
  #prng: seedrandom.PRNG;
  #spare: number | null = null;
  #seed: string;

  /** A generator seeded with `seed` (a random seed when omitted). */
  constructor(seed?: number | string) {
    this.#seed = seed === undefined ? String(Math.random()) : String(seed);
    this.#prng = seedrandom.alea(this.#seed);
  }

  /** Restarts the stream from `seed`; returns this generator. */
  manualSeed(seed: number | string): this {
    this.#seed = String(seed);
    this.#prng = seedrandom.alea(this.#seed);
    this.#spare = null;
    return this;
  }

  /** The seed this generator was last seeded with. */
  initialSeed(): string {
    return this.#seed;
  }

  /** A uniform double in [0, 1) with 53 bits of randomness. */
  uniform(): number {
    return this.#prng.double();
  }

  /** A standard normal sample (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.#spare !== null) {
      const s = this.#spare;
      this.#spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** A uniform integer in [low, high). */
  integer(low: number, high: number): number {
    return low + Math.floor(this.uniform() * (high - low));
  }
}

let globalGenerator = new Generator(0);

/** Reseeds the global generator (as `torch.manual_seed`) and returns it. */
export function manualSeed(seed: number | string): Generator {
  globalGenerator = new Generator(seed);
  return globalGenerator;
}

/** The global generator that random ops use when none is given. */
export function defaultGenerator(): Generator {
  return globalGenerator;
}
