/**
 * A vector drawing of a tabletop scene for reports: a standalone SVG string with the same primitives
 * the rasteriser paints (`scenePrimitives`), plus, optionally, the end-effector path of a rollout
 * (from a list of snapshots) with its start marked by a circle and its end by a square, and a title.
 * The y axis points up, as on the table. No DOM is needed (plain strings), so it runs anywhere.
 * @module
 */
import { simBody } from './bodies.js';
import { scenePrimitives, type Primitive, type Rgb } from './render.js';
import type { SceneSnapshot } from './scene.js';

/** Options of {@link sceneSvg}. */
export interface SceneSvgOptions {
  /** Snapshots along a rollout: their end-effector positions are drawn as a path. */
  readonly trace?: readonly SceneSnapshot[];
  /** Width and height of the table in pixels (default 320). */
  readonly size?: number;
  /** A title above the table (escaped). */
  readonly title?: string;
}

const num = (v: number) => (Math.round(v * 1e4) / 1e4).toString();
const rgb = (c: Rgb) => `rgb(${c.map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255)).join(',')})`;
/** Escapes text for XML. */
function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function element(p: Primitive): string {
  const op = p.alpha < 1 ? ` opacity="${num(p.alpha)}"` : '';
  switch (p.kind) {
    case 'rect':
      return `<rect x="${num(p.x0)}" y="${num(p.y0)}" width="${num(p.x1 - p.x0)}" height="${num(p.y1 - p.y0)}" fill="${rgb(p.colour)}"${op}/>`;
    case 'disc':
      return `<circle cx="${num(p.x)}" cy="${num(p.y)}" r="${num(p.r)}" fill="${rgb(p.colour)}"${op}/>`;
    case 'ring':
      return `<circle cx="${num(p.x)}" cy="${num(p.y)}" r="${num(p.r - p.width / 2)}" fill="none" stroke="${rgb(p.colour)}" stroke-width="${num(p.width)}"${op}/>`;
    case 'capsule':
      return `<line x1="${num(p.a.x)}" y1="${num(p.a.y)}" x2="${num(p.b.x)}" y2="${num(p.b.y)}" stroke="${rgb(p.colour)}" stroke-width="${num(2 * p.r)}" stroke-linecap="round"${op}/>`;
  }
}

/** The scene (and the traced end-effector path) as a standalone SVG document. */
export function sceneSvg(snapshot: SceneSnapshot, opts: SceneSvgOptions = {}): string {
  const size = opts.size ?? 320;
  if (!Number.isFinite(size) || size <= 0) throw new RangeError(`sceneSvg: size must be a positive number of pixels, got ${size}`);
  if (snapshot === null || typeof snapshot !== 'object' || !Array.isArray(snapshot.blocks)) throw new TypeError(`sceneSvg: snapshot must be a SceneSnapshot (TabletopWorld.snapshot()), got ${String(snapshot)}`);
  const titleHeight = opts.title === undefined ? 0 : 24;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${num(size)}" height="${num(size + titleHeight)}" viewBox="0 0 ${num(size)} ${num(size + titleHeight)}">`);
  if (opts.title !== undefined) parts.push(`<text x="${num(size / 2)}" y="17" text-anchor="middle" font-family="sans-serif" font-size="14">${escapeXml(opts.title)}</text>`);
  parts.push(`<g transform="translate(0 ${num(size + titleHeight)}) scale(${num(size)} ${num(-size)})">`);
  for (const p of scenePrimitives(snapshot)) parts.push(element(p));
  const trace = opts.trace ?? [];
  if (trace.length > 0) {
    const colour = rgb(simBody(snapshot.embodiment).colour.map((v) => v * 0.6) as unknown as Rgb);
    parts.push(`<polyline points="${trace.map((s) => `${num(s.eef.x)},${num(s.eef.y)}`).join(' ')}" fill="none" stroke="${colour}" stroke-width="0.006" stroke-dasharray="0.015 0.008" stroke-linejoin="round"/>`);
    const a = trace[0]!.eef;
    const b = trace[trace.length - 1]!.eef;
    parts.push(`<circle cx="${num(a.x)}" cy="${num(a.y)}" r="0.012" fill="white" stroke="${colour}" stroke-width="0.005"/>`);
    parts.push(`<rect x="${num(b.x - 0.011)}" y="${num(b.y - 0.011)}" width="0.022" height="0.022" fill="white" stroke="${colour}" stroke-width="0.005"/>`);
  }
  parts.push('</g>', '</svg>');
  return parts.join('\n');
}
