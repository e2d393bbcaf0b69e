/**
 * Learning-rate schedules: pure functions of the step, and an {@link LRScheduler} that writes their
 * values into an optimiser's groups (as `torch.optim.lr_scheduler.LambdaLR`).
 * @module
 */

/** A schedule: the learning rate at `step` (0 before the first optimiser step) for a group whose base rate is `baseLr`. */
export type Schedule = (step: number, baseLr: number) => number;

/** The base rate at every step. */
export function constantSchedule(): Schedule {
  return (_step, baseLr) => baseLr;
}

/** Options of {@link warmupCosine}. */
export interface WarmupCosineOptions {
  /** Steps of linear warm-up from 0 to the base rate (0 for none). */
  warmupSteps: number;
  /** The step at which the cosine reaches the floor; the rate stays there afterwards. */
  totalSteps: number;
  /** The floor as an absolute rate (give this or `minLrRatio`, not both). */
  minLr?: number;
  /** The floor as a fraction of each group's base rate (default 0). */
  minLrRatio?: number;
}

/**
 * Linear warm-up, then cosine decay to a floor (the usual transformer schedule, as Hugging Face's
 * `get_cosine_schedule_with_warmup` when the floor is 0): `base·s/W` for s < W, then
 * `floor + (base − floor)·½(1 + cos(π·(s − W)/(T − W)))` until T, then `floor`.
 *
 * @example
 * const sched = new LRScheduler(opt, warmupCosine({ warmupSteps: 100, totalSteps: 10_000, minLrRatio: 0.1 }));
 */
export function warmupCosine(opts: WarmupCosineOptions): Schedule {
  const { warmupSteps: w, totalSteps: t } = opts;
  if (!(Number.isInteger(w) && w >= 0)) throw new RangeError(`warmupCosine: warmupSteps must be a non-negative integer, got ${w}`);
  if (!(Number.isInteger(t) && t >= w)) throw new RangeError(`warmupCosine: totalSteps must be an integer ≥ warmupSteps (${w}), got ${t}`);
  if (opts.minLr !== undefined && opts.minLrRatio !== undefined) throw new RangeError('warmupCosine: give minLr or minLrRatio, not both');
  if (opts.minLr !== undefined && !(opts.minLr >= 0)) throw new RangeError(`warmupCosine: minLr must be non-negative, got ${opts.minLr}`);
  const ratio = opts.minLrRatio ?? 0;
  if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`warmupCosine: minLrRatio must be in [0, 1], got ${ratio}`);
  return (step, baseLr) => {
    if (step < w) return (baseLr * step) / w;
    const floor = opts.minLr ?? ratio * baseLr;
    if (step >= t) return floor;
    const progress = (step - w) / (t - w);
    return floor + (baseLr - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}

/** What an {@link LRScheduler} drives: anything with groups that have an `lr` (every optimiser here). */
export interface HasParamGroups {
  /** The groups whose `lr` the scheduler sets. */
  paramGroups: {
    /** The group's learning rate. */
    lr: number;
  }[];
}

/** The JSON-serialisable state of an {@link LRScheduler}. */
export interface LRSchedulerState {
  /** How many times `step()` has been called. */
  lastStep: number;
  /** Each group's base rate. */
  baseLrs: number[];
}

/**
 * Sets each group's `lr` to `schedule(step, baseLr)`: at construction for step 0 (the base rates are the
 * groups' rates at that moment), then after each {@link step}. Call `step()` after `optimizer.step()`.
 *
 * @example
 * const sched = new LRScheduler(opt, warmupCosine({ warmupSteps: 10, totalSteps: 1000 }));
 * for (...) { loss.backward(); opt.step(); opt.zeroGrad(); sched.step(); }
 */
export class LRScheduler {
  readonly #opt: HasParamGroups;
  readonly #schedule: Schedule;
  #baseLrs: number[];
  #step = 0;

  /** A scheduler writing `schedule` into `optimizer`'s groups. */
  constructor(optimizer: HasParamGroups, schedule: Schedule) {
    if (typeof schedule !== 'function') throw new TypeError('LRScheduler: schedule must be a function (step, baseLr) => lr');
    this.#opt = optimizer;
    this.#schedule = schedule;
    this.#baseLrs = optimizer.paramGroups.map((g) => g.lr);
    this.#apply();
  }

  #apply(): void {
    this.#opt.paramGroups.forEach((g, i) => {
      const lr = this.#schedule(this.#step, this.#baseLrs[i]!);
      if (!(lr >= 0)) throw new RangeError(`LRScheduler: the schedule gave lr ${lr} at step ${this.#step} (group ${i})`);
      g.lr = lr;
    });
  }

  /** Advances one step and sets the new rates. */
  step(): void {
    this.#step++;
    this.#apply();
  }

  /** How many times {@link step} has been called. */
  get lastStep(): number {
    return this.#step;
  }

  /** The base rate of each group. */
  get baseLrs(): readonly number[] {
    return this.#baseLrs;
  }

  /** The rates last set, one per group. */
  getLastLr(): number[] {
    return this.#opt.paramGroups.map((g) => g.lr);
  }

  /** The state to checkpoint (plain JSON). */
  stateDict(): LRSchedulerState {
    return { lastStep: this.#step, baseLrs: [...this.#baseLrs] };
  }

  /** Restores a state from {@link stateDict} and sets the rates it implies. */
  loadStateDict(s: LRSchedulerState): void {
    if (!Number.isInteger(s.lastStep) || s.lastStep < 0) throw new RangeError(`LRScheduler.loadStateDict: invalid lastStep ${s.lastStep}`);
    if (s.baseLrs.length !== this.#opt.paramGroups.length) {
      throw new RangeError(`LRScheduler.loadStateDict: the state has ${s.baseLrs.length} groups, the optimiser ${this.#opt.paramGroups.length}`);
    }
    this.#step = s.lastStep;
    this.#baseLrs = [...s.baseLrs];
    this.#apply();
  }
}
