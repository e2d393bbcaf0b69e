/**
 * Small SVG figures for the notebooks and the demo: layered x–y charts (points, lines, segments and arrows,
 * rectangles, bars, reference lines, text), heat maps with labelled blocks, and side-by-side panels.
 *
 * Deno's Jupyter kernel shows any value with a `Symbol.for('Jupyter.display')` method by the MIME
 * bundle it returns, so a {@link Figure} left as a cell's last expression (or passed to
 * `Deno.jupyter.display`) appears inline as SVG, and nbconvert stores it in the notebook. No
 * dependencies; numbers are rounded to 0.1 px so that stored outputs stay small and reproducible.
 * @module
 */

/** The default colours, in order (a colour-blind-safe qualitative palette). */
export const PALETTE: readonly string[] = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#7f7f7f', '#000000'];

/** A finished SVG drawing that Jupyter displays inline. */
export class Figure {
  /** A figure from its SVG markup and a one-line plain-text description (the text/plain fallback). */
  constructor(
    /** The complete `<svg>` element. */
    readonly svg: string,
    /** What the figure shows, for viewers without SVG. */
    readonly description: string,
    /** Width in pixels. */
    readonly width: number,
    /** Height in pixels. */
    readonly height: number,
  ) {}

  /** The MIME bundle Deno's Jupyter kernel displays. */
  [Symbol.for('Jupyter.display')](): Record<string, string> {
    return { 'image/svg+xml': this.svg, 'text/plain': this.description };
  }

  /** The SVG markup. */
  toString(): string {
    return this.svg;
  }
}

/** Points (circles) at (x[i], y[i]). */
export interface ScatterLayer {
  /** Layer kind. */
  readonly type: 'scatter';
  /** x coordinates. */
  readonly x: ArrayLike<number>;
  /** y coordinates, as many as x. */
  readonly y: ArrayLike<number>;
  /** Fill colour (default: the next palette colour). */
  readonly color?: string;
  /** Radius in pixels (default 2.5). */
  readonly radius?: number;
  /** Opacity in [0, 1] (default 0.8). */
  readonly opacity?: number;
  /** Legend entry. */
  readonly label?: string;
}

/** A polyline through (x[i], y[i]); non-finite points break it. */
export interface LineLayer {
  /** Layer kind. */
  readonly type: 'line';
  /** x coordinates. */
  readonly x: ArrayLike<number>;
  /** y coordinates, as many as x. */
  readonly y: ArrayLike<number>;
  /** Stroke colour (default: the next palette colour). */
  readonly color?: string;
  /** Stroke width in pixels (default 1.8). */
  readonly width?: number;
  /** SVG dash pattern, e.g. `'4 3'`. */
  readonly dash?: string;
  /** Opacity in [0, 1] (default 1). */
  readonly opacity?: number;
  /** Draw the points as steps (hold each value until the next x). */
  readonly step?: boolean;
  /** Mark every point with a dot of this radius (default none). */
  readonly markers?: number;
  /** Legend entry. */
  readonly label?: string;
}

/** Straight segments from (x0[i], y0[i]) to (x1[i], y1[i]), optionally with arrow heads. */
export interface SegmentsLayer {
  /** Layer kind. */
  readonly type: 'segments';
  /** Start x coordinates. */
  readonly x0: ArrayLike<number>;
  /** Start y coordinates. */
  readonly y0: ArrayLike<number>;
  /** End x coordinates. */
  readonly x1: ArrayLike<number>;
  /** End y coordinates. */
  readonly y1: ArrayLike<number>;
  /** Stroke colour (default: the next palette colour). */
  readonly color?: string;
  /** Stroke width in pixels (default 1). */
  readonly width?: number;
  /** Opacity in [0, 1] (default 0.5). */
  readonly opacity?: number;
  /** Draw an arrow head at each end point. */
  readonly arrows?: boolean;
  /** Legend entry. */
  readonly label?: string;
}

/** Axis-aligned rectangles [x0[i], x1[i]] × [y0[i], y1[i]] in data coordinates. */
export interface RectsLayer {
  /** Layer kind. */
  readonly type: 'rects';
  /** Left edges. */
  readonly x0: ArrayLike<number>;
  /** Right edges. */
  readonly x1: ArrayLike<number>;
  /** Bottom edges. */
  readonly y0: ArrayLike<number>;
  /** Top edges. */
  readonly y1: ArrayLike<number>;
  /** Fill colour, one for all or one per rectangle (default: the next palette colour). */
  readonly color?: string | readonly string[];
  /** Opacity in [0, 1] (default 0.35). */
  readonly opacity?: number;
  /** Text drawn centred in each rectangle. */
  readonly text?: readonly string[];
  /** Legend entry. */
  readonly label?: string;
}

/** Vertical bars of height y[i] centred at x[i]. */
export interface BarsLayer {
  /** Layer kind. */
  readonly type: 'bars';
  /** Bar centres. */
  readonly x: ArrayLike<number>;
  /** Bar heights (from 0). */
  readonly y: ArrayLike<number>;
  /** Bar width in data units (default 0.8). */
  readonly barWidth?: number;
  /** Offset of the bars' centres in data units (for grouped bars; default 0). */
  readonly offset?: number;
  /** Fill colour (default: the next palette colour). */
  readonly color?: string;
  /** Opacity in [0, 1] (default 0.85). */
  readonly opacity?: number;
  /** Legend entry. */
  readonly label?: string;
}

/** Reference lines across the whole plot: vertical at each x, or horizontal at each y. */
export interface RuleLayer {
  /** Layer kind. */
  readonly type: 'vrule' | 'hrule';
  /** Positions in data units. */
  readonly at: ArrayLike<number>;
  /** Stroke colour (default grey). */
  readonly color?: string;
  /** SVG dash pattern (default `'3 3'`). */
  readonly dash?: string;
  /** Legend entry. */
  readonly label?: string;
}

/** Text at data coordinates. */
export interface TextLayer {
  /** Layer kind. */
  readonly type: 'text';
  /** x coordinates. */
  readonly x: ArrayLike<number>;
  /** y coordinates. */
  readonly y: ArrayLike<number>;
  /** One string per point. */
  readonly text: readonly string[];
  /** Colour (default dark grey). */
  readonly color?: string;
  /** Horizontal anchor (default `'middle'`). */
  readonly anchor?: 'start' | 'middle' | 'end';
  /** Font size in pixels (default 11). */
  readonly size?: number;
}

/** One layer of a {@link plot}. */
export type Layer = ScatterLayer | LineLayer | SegmentsLayer | RectsLayer | BarsLayer | RuleLayer | TextLayer;

/** Options of {@link plot}. */
export interface PlotOptions {
  /** Title above the plot. */
  readonly title?: string;
  /** Label of the x axis. */
  readonly xLabel?: string;
  /** Label of the y axis. */
  readonly yLabel?: string;
  /** Width in pixels (default 520). */
  readonly width?: number;
  /** Height in pixels (default 360). */
  readonly height?: number;
  /** The x range shown (default: the data's, padded by 4%). */
  readonly xDomain?: readonly [number, number];
  /** The y range shown (default: the data's, padded by 4%). */
  readonly yDomain?: readonly [number, number];
  /** One data unit is as long on both axes (for point clouds). */
  readonly equalAspect?: boolean;
  /** Tick labels of the x axis at integer positions 0, 1, … (for categories). */
  readonly xCategories?: readonly string[];
  /** Where the legend goes (default `'top-right'`). */
  readonly legend?: 'top-right' | 'top-left' | 'bottom-right' | 'bottom-left' | 'none';
}

const MARGIN = { left: 58, right: 14, top: 34, bottom: 46 };

/** Escapes text for SVG. */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A pixel coordinate with one decimal. */
function px(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** A tick label with at most 3 significant digits. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-3 ? v.toExponential(1) : String(Number(v.toPrecision(3)));
}

/**
 * About `n` round tick values (1, 2 or 5 times a power of ten apart) inside [lo, hi]: the widest such
 * spacing not below (hi − lo)/n, or the next narrower one when that would leave fewer than 3 ticks.
 */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const steps = [0.5, 1, 2, 5, 10].map((m) => m * mag);
  const at = (step: number): number[] => {
    const out: number[] = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
    return out;
  };
  const k = steps.findIndex((s) => s >= raw);
  const ticks = at(steps[k]!);
  return ticks.length >= 3 ? ticks : at(steps[k - 1]!);
}

function finite(values: ArrayLike<number>): number[] {
  return Array.from(values).filter(Number.isFinite);
}

/** The data extent a layer claims, per axis. */
function extent(layer: Layer): { xs: number[]; ys: number[] } {
  switch (layer.type) {
    case 'scatter':
    case 'line':
    case 'text':
      return { xs: finite(layer.x), ys: finite(layer.y) };
    case 'segments':
      return { xs: [...finite(layer.x0), ...finite(layer.x1)], ys: [...finite(layer.y0), ...finite(layer.y1)] };
    case 'rects':
      return { xs: [...finite(layer.x0), ...finite(layer.x1)], ys: [...finite(layer.y0), ...finite(layer.y1)] };
    case 'bars': {
      const w = (layer.barWidth ?? 0.8) / 2;
      const o = layer.offset ?? 0;
      return { xs: finite(layer.x).flatMap((x) => [x + o - w, x + o + w]), ys: [0, ...finite(layer.y)] };
    }
    case 'vrule':
      return { xs: finite(layer.at), ys: [] };
    case 'hrule':
      return { xs: [], ys: finite(layer.at) };
  }
}

function domainOf(values: number[], given: readonly [number, number] | undefined, what: string): [number, number] {
  if (given) {
    if (!(given[1] > given[0])) throw new RangeError(`plot: ${what} domain [${given[0]}, ${given[1]}] must be increasing`);
    return [given[0], given[1]];
  }
  if (values.length === 0) return [0, 1];
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi === lo) [lo, hi] = [lo - 0.5, hi + 0.5];
  const pad = (hi - lo) * 0.04;
  return [lo - pad, hi + pad];
}

function checkLengths(fn: string, ...arrays: ArrayLike<number>[]): number {
  const n = arrays[0]!.length;
  if (arrays.some((a) => a.length !== n)) throw new RangeError(`${fn}: coordinate arrays differ in length (${arrays.map((a) => a.length).join(', ')})`);
  return n;
}

let clipCounter = 0;

/**
 * A layered x–y chart. Layers are drawn in order; colours not given come from {@link PALETTE} in
 * order of the layers that need one; layers with a `label` appear in the legend.
 *
 * @example
 * plot([{ type: 'line', x: [0, 1, 2], y: [1, 0, 1], label: 'loss' }], { title: 'Loss', xLabel: 'step' })
 */
export function plot(layers: readonly Layer[], opts: PlotOptions = {}): Figure {
  const width = opts.width ?? 520;
  const height = opts.height ?? 360;
  const ext = layers.map(extent);
  let [x0, x1] = domainOf(ext.flatMap((e) => e.xs), opts.xDomain, 'x');
  let [y0, y1] = domainOf(ext.flatMap((e) => e.ys), opts.yDomain, 'y');
  const pw = width - MARGIN.left - MARGIN.right;
  const ph = height - MARGIN.top - MARGIN.bottom;
  if (opts.equalAspect) {
    // Widen the narrower range so that one unit spans the same pixels on both axes.
    const k = Math.max((x1 - x0) / pw, (y1 - y0) / ph);
    const cx = (x0 + x1) / 2;
    const cy = (y0 + y1) / 2;
    [x0, x1] = [cx - (k * pw) / 2, cx + (k * pw) / 2];
    [y0, y1] = [cy - (k * ph) / 2, cy + (k * ph) / 2];
  }
  const sx = (x: number) => MARGIN.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => MARGIN.top + ph - ((y - y0) / (y1 - y0)) * ph;
  const clip = `plot-clip-${++clipCounter}`;
  const body: string[] = [`<defs><clipPath id="${clip}"><rect x="${MARGIN.left}" y="${MARGIN.top}" width="${pw}" height="${ph}"/></clipPath></defs>`];

  // Grid and ticks.
  const xTicks = opts.xCategories ? opts.xCategories.map((_, i) => i).filter((i) => i >= x0 && i <= x1) : niceTicks(x0, x1, Math.max(2, Math.round(pw / 90)));
  for (const v of niceTicks(y0, y1, Math.max(2, Math.round(ph / 60)))) {
    body.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + pw}" y1="${px(sy(v))}" y2="${px(sy(v))}" stroke="#e5e5e5"/>`);
    body.push(`<text x="${MARGIN.left - 5}" y="${px(sy(v) + 4)}" text-anchor="end">${formatTick(v)}</text>`);
  }
  for (const v of xTicks) {
    body.push(`<line y1="${MARGIN.top}" y2="${MARGIN.top + ph}" x1="${px(sx(v))}" x2="${px(sx(v))}" stroke="#f0f0f0"/>`);
    const label = opts.xCategories ? opts.xCategories[v] ?? '' : formatTick(v);
    body.push(`<text x="${px(sx(v))}" y="${MARGIN.top + ph + 15}" text-anchor="middle">${esc(label)}</text>`);
  }

  // Layers.
  const legend: { label: string; color: string; kind: 'box' | 'line' | 'dot' }[] = [];
  let next = 0;
  const colorOf = (c: string | undefined) => c ?? PALETTE[next++ % PALETTE.length]!;
  const g: string[] = [];
  for (const layer of layers) {
    switch (layer.type) {
      case 'scatter': {
        const n = checkLengths('plot(scatter)', layer.x, layer.y);
        const color = colorOf(layer.color);
        const r = layer.radius ?? 2.5;
        const dots: string[] = [];
        for (let i = 0; i < n; i++) {
          const x = layer.x[i]!;
          const y = layer.y[i]!;
          if (Number.isFinite(x) && Number.isFinite(y)) dots.push(`<circle cx="${px(sx(x))}" cy="${px(sy(y))}" r="${r}"/>`);
        }
        g.push(`<g fill="${color}" fill-opacity="${layer.opacity ?? 0.8}">${dots.join('')}</g>`);
        if (layer.label) legend.push({ label: layer.label, color, kind: 'dot' });
        break;
      }
      case 'line': {
        const n = checkLengths('plot(line)', layer.x, layer.y);
        const color = colorOf(layer.color);
        let d = '';
        let pen = false;
        for (let i = 0; i < n; i++) {
          const x = layer.x[i]!;
          const y = layer.y[i]!;
          if (!Number.isFinite(x) || !Number.isFinite(y)) {
            pen = false;
            continue;
          }
          if (pen && layer.step) d += `H${px(sx(x))}`;
          d += `${pen ? 'L' : 'M'}${px(sx(x))},${px(sy(y))}`;
          pen = true;
        }
        const dash = layer.dash ? ` stroke-dasharray="${layer.dash}"` : '';
        g.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${layer.width ?? 1.8}" stroke-opacity="${layer.opacity ?? 1}"${dash}/>`);
        if (layer.markers) {
          const dots: string[] = [];
          for (let i = 0; i < n; i++) {
            if (Number.isFinite(layer.x[i]!) && Number.isFinite(layer.y[i]!)) dots.push(`<circle cx="${px(sx(layer.x[i]!))}" cy="${px(sy(layer.y[i]!))}" r="${layer.markers}"/>`);
          }
          g.push(`<g fill="${color}" fill-opacity="${layer.opacity ?? 1}">${dots.join('')}</g>`);
        }
        if (layer.label) legend.push({ label: layer.label, color, kind: 'line' });
        break;
      }
      case 'segments': {
        const n = checkLengths('plot(segments)', layer.x0, layer.y0, layer.x1, layer.y1);
        const color = colorOf(layer.color);
        const parts: string[] = [];
        const heads: string[] = [];
        for (let i = 0; i < n; i++) {
          const [ax, ay, bx, by] = [sx(layer.x0[i]!), sy(layer.y0[i]!), sx(layer.x1[i]!), sy(layer.y1[i]!)];
          if (![ax, ay, bx, by].every(Number.isFinite)) continue;
          parts.push(`M${px(ax)},${px(ay)}L${px(bx)},${px(by)}`);
          const len = Math.hypot(bx - ax, by - ay);
          if (layer.arrows && len > 1) {
            const [ux, uy] = [(bx - ax) / len, (by - ay) / len];
            const s = Math.min(6, len / 2);
            heads.push(`M${px(bx)},${px(by)}L${px(bx - s * ux - (s / 2) * uy)},${px(by - s * uy + (s / 2) * ux)}L${px(bx - s * ux + (s / 2) * uy)},${px(by - s * uy - (s / 2) * ux)}Z`);
          }
        }
        const opacity = layer.opacity ?? 0.5;
        g.push(`<path d="${parts.join('')}" stroke="${color}" stroke-width="${layer.width ?? 1}" stroke-opacity="${opacity}" fill="none"/>`);
        if (heads.length > 0) g.push(`<path d="${heads.join('')}" fill="${color}" fill-opacity="${opacity}"/>`);
        if (layer.label) legend.push({ label: layer.label, color, kind: 'line' });
        break;
      }
      case 'rects': {
        const n = checkLengths('plot(rects)', layer.x0, layer.x1, layer.y0, layer.y1);
        const single = typeof layer.color === 'string' || layer.color === undefined ? colorOf(layer.color as string | undefined) : null;
        for (let i = 0; i < n; i++) {
          const color = single ?? (layer.color as readonly string[])[i % (layer.color as readonly string[]).length]!;
          const [a, b] = [sx(Math.min(layer.x0[i]!, layer.x1[i]!)), sx(Math.max(layer.x0[i]!, layer.x1[i]!))];
          const [c, d] = [sy(Math.max(layer.y0[i]!, layer.y1[i]!)), sy(Math.min(layer.y0[i]!, layer.y1[i]!))];
          g.push(`<rect x="${px(a)}" y="${px(c)}" width="${px(b - a)}" height="${px(d - c)}" fill="${color}" fill-opacity="${layer.opacity ?? 0.35}"/>`);
          const t = layer.text?.[i];
          if (t) g.push(`<text x="${px((a + b) / 2)}" y="${px((c + d) / 2 + 4)}" text-anchor="middle" font-size="10">${esc(t)}</text>`);
        }
        if (layer.label) legend.push({ label: layer.label, color: single ?? (layer.color as readonly string[])[0]!, kind: 'box' });
        break;
      }
      case 'bars': {
        const n = checkLengths('plot(bars)', layer.x, layer.y);
        const color = colorOf(layer.color);
        const w = layer.barWidth ?? 0.8;
        const o = layer.offset ?? 0;
        const bars: string[] = [];
        for (let i = 0; i < n; i++) {
          const [a, b] = [sx(layer.x[i]! + o - w / 2), sx(layer.x[i]! + o + w / 2)];
          const [top, base] = [sy(Math.max(0, layer.y[i]!)), sy(Math.min(0, layer.y[i]!))];
          bars.push(`<rect x="${px(a)}" y="${px(top)}" width="${px(b - a)}" height="${px(base - top)}"/>`);
        }
        g.push(`<g fill="${color}" fill-opacity="${layer.opacity ?? 0.85}">${bars.join('')}</g>`);
        if (layer.label) legend.push({ label: layer.label, color, kind: 'box' });
        break;
      }
      case 'vrule':
      case 'hrule': {
        const color = layer.color ?? '#888';
        const dash = layer.dash ?? '3 3';
        for (const v of Array.from(layer.at)) {
          g.push(
            layer.type === 'vrule'
              ? `<line x1="${px(sx(v))}" x2="${px(sx(v))}" y1="${MARGIN.top}" y2="${MARGIN.top + ph}" stroke="${color}" stroke-dasharray="${dash}"/>`
              : `<line x1="${MARGIN.left}" x2="${MARGIN.left + pw}" y1="${px(sy(v))}" y2="${px(sy(v))}" stroke="${color}" stroke-dasharray="${dash}"/>`,
          );
        }
        if (layer.label) legend.push({ label: layer.label, color, kind: 'line' });
        break;
      }
      case 'text': {
        const n = checkLengths('plot(text)', layer.x, layer.y);
        for (let i = 0; i < n; i++) {
          g.push(
            `<text x="${px(sx(layer.x[i]!))}" y="${px(sy(layer.y[i]!))}" text-anchor="${layer.anchor ?? 'middle'}" font-size="${layer.size ?? 11}" fill="${layer.color ?? '#333'}">${esc(layer.text[i] ?? '')}</text>`,
          );
        }
        break;
      }
    }
  }
  body.push(`<g clip-path="url(#${clip})">${g.join('\n')}</g>`);
  body.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`);
  if (opts.xLabel) body.push(`<text x="${px(MARGIN.left + pw / 2)}" y="${height - 10}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  if (opts.yLabel) body.push(`<text transform="translate(14 ${px(MARGIN.top + ph / 2)}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel)}</text>`);
  const where = opts.legend ?? 'top-right';
  if (legend.length > 0 && where !== 'none') {
    const lw = Math.max(...legend.map((l) => l.label.length)) * 6.4 + 30;
    const lh = legend.length * 16 + 6;
    const lx = where.endsWith('left') ? MARGIN.left + 6 : MARGIN.left + pw - lw - 6;
    const ly = where.startsWith('top') ? MARGIN.top + 6 : MARGIN.top + ph - lh - 6;
    body.push(`<rect x="${px(lx)}" y="${px(ly)}" width="${px(lw)}" height="${lh}" fill="white" fill-opacity="0.85" stroke="#ccc"/>`);
    legend.forEach((l, i) => {
      const y = ly + 14 + i * 16;
      const mark =
        l.kind === 'line'
          ? `<line x1="${px(lx + 5)}" x2="${px(lx + 21)}" y1="${px(y - 4)}" y2="${px(y - 4)}" stroke="${l.color}" stroke-width="2"/>`
          : l.kind === 'dot'
            ? `<circle cx="${px(lx + 13)}" cy="${px(y - 4)}" r="4" fill="${l.color}"/>`
            : `<rect x="${px(lx + 6)}" y="${px(y - 10)}" width="14" height="11" fill="${l.color}" fill-opacity="0.7"/>`;
      body.push(mark, `<text x="${px(lx + 26)}" y="${px(y)}">${esc(l.label)}</text>`);
    });
  }
  const title = opts.title ?? '';
  return new Figure(frame(width, height, title, body), `[plot: ${title || 'untitled'}; ${layers.length} layer(s)]`, width, height);
}

/** A labelled block of rows or columns of a {@link heatmap} (e.g. one segment of a sequence). */
export interface HeatmapBlock {
  /** First index. */
  readonly start: number;
  /** One past the last index. */
  readonly end: number;
  /** The block's name. */
  readonly label: string;
  /** Its colour (default: the palette, in order). */
  readonly color?: string;
}

/** Options of {@link heatmap}. */
export interface HeatmapOptions {
  /** Title above the map. */
  readonly title?: string;
  /** Label of the rows (left). */
  readonly rowTitle?: string;
  /** Label of the columns (bottom). */
  readonly colTitle?: string;
  /** Side of a cell in pixels (default: fits 420 px, between 4 and 28). */
  readonly cell?: number;
  /** Value shown white (default: the minimum). */
  readonly min?: number;
  /** Value shown at full colour (default: the maximum). */
  readonly max?: number;
  /** Full colour (default dark blue). */
  readonly color?: string;
  /** Write each value in its cell, with this many decimals. */
  readonly decimals?: number;
  /** Labelled blocks of rows (also used for columns unless `colBlocks` is given). */
  readonly blocks?: readonly HeatmapBlock[];
  /** Labelled blocks of columns. */
  readonly colBlocks?: readonly HeatmapBlock[];
  /** A label per row, drawn left of the blocks. */
  readonly rowLabels?: readonly string[];
  /** A label per column, drawn under the map. */
  readonly colLabels?: readonly string[];
}

function hexToRgb(hex: string): [number, number, number] {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new RangeError(`heatmap: colour must be #rrggbb, got '${hex}'`);
  return [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
}

/**
 * A matrix as coloured cells (row i top to bottom, column j left to right), shaded linearly from white
 * at `min` to `color` at `max`, with optional labelled blocks along both edges.
 *
 * @example
 * heatmap([[1, 0], [1, 1]], { title: 'causal mask', decimals: 0 })
 */
export function heatmap(values: readonly (ArrayLike<number>)[], opts: HeatmapOptions = {}): Figure {
  const rows = values.length;
  const cols = rows > 0 ? values[0]!.length : 0;
  if (rows === 0 || cols === 0) throw new RangeError('heatmap: the matrix is empty');
  if (values.some((r) => r.length !== cols)) throw new RangeError(`heatmap: rows differ in length (expected ${cols})`);
  const all = values.flatMap((r) => finite(r));
  const lo = opts.min ?? Math.min(...all);
  const hi = opts.max ?? Math.max(...all);
  const cell = opts.cell ?? Math.max(4, Math.min(28, Math.floor(420 / Math.max(rows, cols))));
  const rowBlocks = opts.blocks ?? [];
  const colBlocks = opts.colBlocks ?? rowBlocks;
  const labelW = opts.rowLabels ? Math.max(...opts.rowLabels.map((s) => s.length)) * 6.2 + 6 : 0;
  const left = 34 + (rowBlocks.length > 0 ? 64 : 0) + labelW;
  const top = 34;
  const colLabelH = opts.colLabels ? Math.max(...opts.colLabels.map((s) => s.length)) * 6.2 + 8 : 0;
  const width = left + cols * cell + 16;
  const height = top + rows * cell + (colBlocks.length > 0 ? 26 : 0) + colLabelH + 34;
  const [r1, g1, b1] = hexToRgb(opts.color ?? '#08306b');
  const shade = (v: number): string => {
    if (!Number.isFinite(v)) return '#ff00ff';
    const f = hi > lo ? Math.min(1, Math.max(0, (v - lo) / (hi - lo))) : 1;
    const mix = (c: number) => Math.round(255 + (c - 255) * f);
    return `rgb(${mix(r1)},${mix(g1)},${mix(b1)})`;
  };
  const body: string[] = [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = values[i]![j]!;
      body.push(`<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${shade(v)}"/>`);
      if (opts.decimals !== undefined && cell >= 14) {
        const f = hi > lo ? (v - lo) / (hi - lo) : 1;
        body.push(`<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 4}" text-anchor="middle" font-size="${Math.min(11, cell / 2)}" fill="${f > 0.55 ? 'white' : '#222'}">${v.toFixed(opts.decimals)}</text>`);
      }
    }
  }
  body.push(`<rect x="${left}" y="${top}" width="${cols * cell}" height="${rows * cell}" fill="none" stroke="#444"/>`);
  rowBlocks.forEach((b, k) => {
    const color = b.color ?? PALETTE[k % PALETTE.length]!;
    const y0 = top + b.start * cell;
    const y1 = top + b.end * cell;
    body.push(`<rect x="${left - labelW - 10}" y="${y0}" width="6" height="${y1 - y0}" fill="${color}"/>`);
    body.push(`<text x="${left - labelW - 14}" y="${px((y0 + y1) / 2 + 4)}" text-anchor="end" font-size="10">${esc(b.label)}</text>`);
    if (b.start > 0) body.push(`<line x1="${left}" x2="${left + cols * cell}" y1="${y0}" y2="${y0}" stroke="#444" stroke-width="1.2"/>`);
  });
  const below = top + rows * cell;
  colBlocks.forEach((b, k) => {
    const color = b.color ?? PALETTE[k % PALETTE.length]!;
    const x0 = left + b.start * cell;
    const x1 = left + b.end * cell;
    body.push(`<rect x="${x0}" y="${below + 4}" width="${x1 - x0}" height="6" fill="${color}"/>`);
    body.push(`<text x="${px((x0 + x1) / 2)}" y="${below + 22}" text-anchor="middle" font-size="10">${esc(b.label)}</text>`);
    if (b.start > 0) body.push(`<line y1="${top}" y2="${below}" x1="${x0}" x2="${x0}" stroke="#444" stroke-width="1.2"/>`);
  });
  opts.rowLabels?.forEach((s, i) => body.push(`<text x="${left - 4}" y="${px(top + i * cell + cell / 2 + 4)}" text-anchor="end" font-size="10">${esc(s)}</text>`));
  const labelTop = below + (colBlocks.length > 0 ? 26 : 0) + 4;
  opts.colLabels?.forEach((s, j) => {
    const x = left + j * cell + cell / 2 + 3;
    body.push(`<text transform="translate(${px(x)} ${labelTop}) rotate(-90)" text-anchor="end" font-size="10">${esc(s)}</text>`);
  });
  if (opts.rowTitle) body.push(`<text transform="translate(12 ${px(top + (rows * cell) / 2)}) rotate(-90)" text-anchor="middle">${esc(opts.rowTitle)}</text>`);
  if (opts.colTitle) body.push(`<text x="${px(left + (cols * cell) / 2)}" y="${height - 8}" text-anchor="middle">${esc(opts.colTitle)}</text>`);
  const title = opts.title ?? '';
  return new Figure(frame(width, height, title, body), `[heatmap: ${title || 'untitled'}; ${rows}×${cols}]`, width, height);
}

/** Figures side by side in one SVG, top-aligned, wrapping after `perRow` panels (default: all in one row). */
export function panels(figures: readonly Figure[], perRow = figures.length): Figure {
  if (figures.length === 0) throw new RangeError('panels: no figures');
  if (!Number.isInteger(perRow) || perRow < 1) throw new RangeError(`panels: perRow must be an integer ≥ 1, got ${perRow}`);
  const parts: string[] = [];
  let y = 0;
  let width = 0;
  for (let r = 0; r < figures.length; r += perRow) {
    const row = figures.slice(r, r + perRow);
    let x = 0;
    for (const f of row) {
      parts.push(f.svg.replace('<svg ', `<svg x="${x}" y="${y}" `));
      x += f.width;
    }
    width = Math.max(width, x);
    y += Math.max(...row.map((f) => f.height));
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}">\n${parts.join('\n')}\n</svg>`;
  return new Figure(svg, figures.map((f) => f.description).join(' | '), width, y);
}

function frame(width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    title ? `<text x="${px(width / 2)}" y="20" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>` : '',
    ...body,
    '</svg>',
  ].join('\n');
}
