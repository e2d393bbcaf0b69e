/**
 * Our own rasteriser for the tabletop: a `[3, S, S]` row-major float image in [0, 1] of a
 * `SceneSnapshot`, seen from above (row 0 is the table's far edge y = 1, column 0 its left edge x = 0).
 * Shapes are painted in order onto a grid supersampled k× per axis (default k = 3 up to 32 px, 2 above) and box-filtered
 * down, which anti-aliases the edges:
 *
 * table (grey) → targets (white rings) → free blocks (filled squares) → the embodiment (links as
 * capsules in its own colour, joints as dark discs, the hand's forearm and palm) → the held block
 * (lifted) → the gripper jaws (or the fingers, shortened as they curl, as seen from above).
 *
 * The same geometry helpers serve `sceneSvg`.
 * @module
 */
import { simBody } from './bodies.js';
import { BLOCK_HALF, type BlockColour, type Point2, type SceneSnapshot } from './scene.js';

/** An RGB colour in [0, 1]. */
export type Rgb = readonly [number, number, number];

/** The colours of the scene (embodiment colours live in their bodies). */
export interface SimPalette {
  /** The table. */
  readonly table: Rgb;
  /** The target rings. */
  readonly target: Rgb;
  /** Arm bases and joints. */
  readonly joint: Rgb;
  /** Each block's colour. */
  readonly blocks: Readonly<Record<BlockColour, Rgb>>;
}

/** The palette: table, targets, blocks, joints. */
export const SIM_PALETTE: SimPalette = Object.freeze({
  table: [0.5, 0.5, 0.5] as Rgb,
  target: [1, 1, 1] as Rgb,
  joint: [0.18, 0.18, 0.2] as Rgb,
  blocks: Object.freeze({ red: [0.9, 0.12, 0.1] as Rgb, green: [0.12, 0.72, 0.18] as Rgb, blue: [0.12, 0.28, 0.95] as Rgb }),
});

/** What every primitive has: a colour and an opacity. */
export interface PaintStyle {
  /** Fill (or stroke) colour. */
  readonly colour: Rgb;
  /** Opacity in (0, 1]; below 1 the colour is blended over what is below. */
  readonly alpha: number;
}

/** An axis-aligned filled rectangle [x0, x1] × [y0, y1]. */
export interface RectPrimitive extends PaintStyle {
  /** Discriminator. */
  readonly kind: 'rect';
  /** Left edge, m. */
  readonly x0: number;
  /** Bottom edge, m. */
  readonly y0: number;
  /** Right edge, m. */
  readonly x1: number;
  /** Top edge, m. */
  readonly y1: number;
}

/** A filled disc. */
export interface DiscPrimitive extends PaintStyle {
  /** Discriminator. */
  readonly kind: 'disc';
  /** Centre x, m. */
  readonly x: number;
  /** Centre y, m. */
  readonly y: number;
  /** Radius, m. */
  readonly r: number;
}

/** A ring: the annulus between radii r − width and r. */
export interface RingPrimitive extends PaintStyle {
  /** Discriminator. */
  readonly kind: 'ring';
  /** Centre x, m. */
  readonly x: number;
  /** Centre y, m. */
  readonly y: number;
  /** Outer radius, m. */
  readonly r: number;
  /** Ring width, m. */
  readonly width: number;
}

/** A capsule: the points within r of the segment [a, b] (a thick line with round caps). */
export interface CapsulePrimitive extends PaintStyle {
  /** Discriminator. */
  readonly kind: 'capsule';
  /** One end. */
  readonly a: Point2;
  /** The other end. */
  readonly b: Point2;
  /** Half the thickness, m. */
  readonly r: number;
}

/** A primitive of the drawing, in table coordinates (metres). */
export type Primitive = RectPrimitive | DiscPrimitive | RingPrimitive | CapsulePrimitive;

/** Half-width of an arm link (m). */
const LINK_HALF_WIDTH = 0.018;
/** Distance from the gripper's jaw tips back to its palm (m). */
const JAW_LENGTH = 0.035;
/** Finger directions relative to the hand's heading (rad), thumb to little finger (a right hand, palm down). */
const FINGER_ANGLES = [1.1, 0.35, 0.1, -0.15, -0.4];
/** Finger lengths when straight (m), thumb to little finger. */
const FINGER_LENGTHS = [0.06, 0.08, 0.088, 0.08, 0.062];
const PALM_RADIUS = 0.048;

const shade = (c: Rgb, f: number): Rgb => [c[0] * f, c[1] * f, c[2] * f];
const along = (p: Point2, angle: number, len: number): Point2 => ({ x: p.x + Math.cos(angle) * len, y: p.y + Math.sin(angle) * len });

/** A finger's projected length (m) at curl c (rad): a curled finger looks shorter from above. */
export function fingerLength(finger: number, curl: number): number {
  return FINGER_LENGTHS[finger]! * (0.35 + 0.65 * Math.cos(0.95 * curl));
}

/** The scene as primitives in painting order (what {@link renderScene} rasterises and `sceneSvg` draws). */
export function scenePrimitives(s: SceneSnapshot): Primitive[] {
  const out: Primitive[] = [{ kind: 'rect', x0: 0, y0: 0, x1: 1, y1: 1, colour: SIM_PALETTE.table, alpha: 1 }];
  for (const t of s.targets) out.push({ kind: 'ring', x: t.x, y: t.y, r: t.radius, width: 0.02, colour: SIM_PALETTE.target, alpha: 1 });
  const block = (b: SceneSnapshot['blocks'][number]): Primitive => ({ kind: 'rect', x0: b.x - BLOCK_HALF, y0: b.y - BLOCK_HALF, x1: b.x + BLOCK_HALF, y1: b.y + BLOCK_HALF, colour: SIM_PALETTE.blocks[b.colour], alpha: 1 });
  for (const b of s.blocks) if (!b.held) out.push(block(b));
  const held = s.blocks.filter((b) => b.held).map(block);
  const body = simBody(s.embodiment);
  const colour = body.colour;
  const { eef } = s;
  if (body.kind === 'arm') {
    const pts = s.links;
    const palm = along(eef, eef.yaw + Math.PI, JAW_LENGTH);
    out.push({ kind: 'disc', x: pts[0]!.x, y: pts[0]!.y, r: 0.045, colour: SIM_PALETTE.joint, alpha: 1 });
    for (let i = 0; i + 1 < pts.length; i++) {
      const b = i + 2 === pts.length ? palm : pts[i + 1]!;
      out.push({ kind: 'capsule', a: pts[i]!, b, r: LINK_HALF_WIDTH, colour, alpha: 0.85 });
    }
    for (let i = 0; i + 1 < pts.length; i++) out.push({ kind: 'disc', x: pts[i]!.x, y: pts[i]!.y, r: 0.02, colour: SIM_PALETTE.joint, alpha: 1 });
    out.push(...held);
    const half = s.grip / 2;
    const perp = eef.yaw + Math.PI / 2;
    const jaw = shade(colour, 0.55);
    out.push({ kind: 'capsule', a: along(palm, perp, half + 0.008), b: along(palm, perp, -half - 0.008), r: 0.008, colour: jaw, alpha: 1 });
    for (const sgn of [1, -1]) out.push({ kind: 'capsule', a: along(palm, perp, sgn * half), b: along(along(eef, eef.yaw, 0.012), perp, sgn * half), r: 0.007, colour: jaw, alpha: 1 });
  } else {
    out.push({ kind: 'capsule', a: along(eef, eef.yaw + Math.PI, 0.2), b: along(eef, eef.yaw + Math.PI, 0.03), r: 0.035, colour: shade(colour, 0.9), alpha: 1 });
    out.push(...held);
    out.push({ kind: 'disc', x: eef.x, y: eef.y, r: PALM_RADIUS, colour, alpha: 1 });
    const finger = shade(colour, 0.8);
    s.fingers.forEach((c, k) => {
      const root = along(eef, eef.yaw + FINGER_ANGLES[k]!, PALM_RADIUS * 0.85);
      out.push({ kind: 'capsule', a: root, b: along(root, eef.yaw + FINGER_ANGLES[k]! * 0.5, fingerLength(k, c)), r: 0.012, colour: finger, alpha: 1 });
    });
  }
  return out;
}

/** Options of {@link renderScene}. */
export interface RenderOptions {
  /** Supersampling factor per axis (an integer 1–8; default 3 up to 32 px, else 2). */
  readonly supersample?: number;
}

/** Rasterises `snapshot` into a `[3, size, size]` row-major image in [0, 1] (see the module doc). */
export function renderScene(snapshot: SceneSnapshot, size: number, opts: RenderOptions = {}): Float32Array {
  if (!Number.isInteger(size) || size < 4 || size > 1024) throw new RangeError(`renderScene: size must be an integer in [4, 1024], got ${size}`);
  const k = opts.supersample ?? (size <= 32 ? 3 : 2);
  if (!Number.isInteger(k) || k < 1 || k > 8) throw new RangeError(`renderScene: supersample must be an integer in [1, 8], got ${k}`);
  const R = size * k;
  const plane = R * R;
  const buf = new Float32Array(3 * plane);
  for (const p of scenePrimitives(snapshot)) paint(buf, R, p);
  const out = new Float32Array(3 * size * size);
  const norm = 1 / (k * k);
  for (let c = 0; c < 3; c++) {
    for (let r = 0; r < size; r++) {
      for (let col = 0; col < size; col++) {
        let s = 0;
        for (let i = 0; i < k; i++) {
          const row = c * plane + (r * k + i) * R + col * k;
          for (let j = 0; j < k; j++) s += buf[row + j]!;
        }
        out[c * size * size + r * size + col] = Math.min(1, Math.max(0, s * norm));
      }
    }
  }
  return out;
}

/** Paints one primitive on the R×R supersampled grid (sample (i, j) at x = (j + ½)/R, y = 1 − (i + ½)/R). */
function paint(buf: Float32Array, R: number, p: Primitive): void {
  let x0: number, x1: number, y0: number, y1: number;
  let inside: (x: number, y: number) => boolean;
  switch (p.kind) {
    case 'rect':
      [x0, x1, y0, y1] = [p.x0, p.x1, p.y0, p.y1];
      inside = (x, y) => x >= p.x0 && x <= p.x1 && y >= p.y0 && y <= p.y1;
      break;
    case 'disc': {
      [x0, x1, y0, y1] = [p.x - p.r, p.x + p.r, p.y - p.r, p.y + p.r];
      const r2 = p.r * p.r;
      inside = (x, y) => (x - p.x) ** 2 + (y - p.y) ** 2 <= r2;
      break;
    }
    case 'ring': {
      [x0, x1, y0, y1] = [p.x - p.r, p.x + p.r, p.y - p.r, p.y + p.r];
      const ro = p.r * p.r;
      const ri = (p.r - p.width) ** 2;
      inside = (x, y) => {
        const d = (x - p.x) ** 2 + (y - p.y) ** 2;
        return d <= ro && d >= ri;
      };
      break;
    }
    case 'capsule': {
      const { a, b, r } = p;
      [x0, x1, y0, y1] = [Math.min(a.x, b.x) - r, Math.max(a.x, b.x) + r, Math.min(a.y, b.y) - r, Math.max(a.y, b.y) + r];
      const dx = b.x - a.x;
      const dy = b.y - a.y;
      const len2 = dx * dx + dy * dy;
      const r2 = r * r;
      inside = (x, y) => {
        const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((x - a.x) * dx + (y - a.y) * dy) / len2));
        return (x - a.x - t * dx) ** 2 + (y - a.y - t * dy) ** 2 <= r2;
      };
      break;
    }
  }
  const j0 = Math.max(0, Math.floor(x0 * R - 0.5));
  const j1 = Math.min(R - 1, Math.ceil(x1 * R - 0.5));
  const i0 = Math.max(0, Math.floor((1 - y1) * R - 0.5));
  const i1 = Math.min(R - 1, Math.ceil((1 - y0) * R - 0.5));
  const plane = R * R;
  const [cr, cg, cb] = p.colour;
  const al = p.alpha;
  for (let i = i0; i <= i1; i++) {
    const y = 1 - (i + 0.5) / R;
    for (let j = j0; j <= j1; j++) {
      if (!inside((j + 0.5) / R, y)) continue;
      const o = i * R + j;
      if (al >= 1) {
        buf[o] = cr;
        buf[plane + o] = cg;
        buf[2 * plane + o] = cb;
      } else {
        buf[o] = buf[o]! * (1 - al) + cr * al;
        buf[plane + o] = buf[plane + o]! * (1 - al) + cg * al;
        buf[2 * plane + o] = buf[2 * plane + o]! * (1 - al) + cb * al;
      }
    }
  }
}
