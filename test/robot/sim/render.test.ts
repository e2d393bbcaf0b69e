/**
 * Rendering: `[3, S, S]` images in [0, 1] for both sizes, the table's grey where nothing is drawn, each
 * block's colour at its centre, each embodiment its own colour, byte-identical for equal snapshots; the
 * SVG drawing is a well-formed standalone document with the scene and the traced path.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SIM_EMBODIMENTS,
  SIM_PALETTE,
  TabletopWorld,
  expertAction,
  renderScene,
  sceneSvg,
  segmentDistance,
  simBody,
  type SceneSnapshot,
} from '../../../src/robot/index.js';

const pixel = (img: Float32Array, S: number, x: number, y: number): number[] => {
  const col = Math.min(S - 1, Math.floor(x * S));
  const row = Math.min(S - 1, Math.floor((1 - y) * S));
  return [0, 1, 2].map((c) => img[c * S * S + row * S + col]!);
};
const close = (a: readonly number[], b: readonly number[], tol: number) => a.every((v, i) => Math.abs(v - b[i]!) <= tol);
/** Whether anything of the robot is drawn within `r` of p. */
const robotNear = (s: SceneSnapshot, x: number, y: number, r: number) => {
  if (Math.hypot(s.eef.x - x, s.eef.y - y) < r + 0.25) return true;
  for (let i = 0; i + 1 < s.links.length; i++) if (segmentDistance({ x, y }, s.links[i]!, s.links[i + 1]!) < r) return true;
  return false;
};

describe('renderScene', () => {
  test('shape [3, S, S] for S = 32 and 64, values in [0, 1], table grey in an empty corner', () => {
    for (const S of [32, 64] as const) {
      for (const e of SIM_EMBODIMENTS) {
        const w = new TabletopWorld({ embodiment: e, seed: 5, imageSize: S });
        const img = w.render();
        assert.equal(img.length, 3 * S * S);
        for (const v of img) assert.ok(v >= 0 && v <= 1 && Number.isFinite(v));
        assert.deepEqual(pixel(img, S, 0.5, 0.97), [...SIM_PALETTE.table].map((v) => Math.fround(v)));
        const obs = w.observation();
        assert.deepEqual(obs.images[0]!.shape, [3, S, S]);
        assert.equal(obs.images[0]!.dtype, 'float32');
        assert.deepEqual(Array.from(obs.images[0]!.dataSync()), Array.from(img));
        assert.equal(obs.instruction, w.task.instruction);
        assert.deepEqual(Array.from(obs.state), Array.from(w.unifiedState()));
      }
    }
  });

  test('each block shows its colour at its centre (where the robot is not over it)', () => {
    let checked = 0;
    for (let seed = 0; seed < 12; seed++) {
      for (const S of [32, 64]) {
        const w = new TabletopWorld({ embodiment: SIM_EMBODIMENTS[seed % 4]!, seed, imageSize: S as 32 | 64 });
        const s = w.snapshot();
        const img = w.render();
        for (const b of s.blocks) {
          if (robotNear(s, b.x, b.y, 0.08)) continue;
          // The pixel holding the centre lies wholly inside the 0.08 m block (pixels are ≤ 0.031 m).
          assert.ok(close(pixel(img, S, b.x, b.y), SIM_PALETTE.blocks[b.colour], 1e-6), `${b.colour} block at (${b.x}, ${b.y}), S = ${S}`);
          checked++;
        }
      }
    }
    assert.ok(checked > 30);
  });

  test('each embodiment is drawn in its own colour; the robot changes the image where it moves', () => {
    const seen = new Set<string>();
    for (const e of SIM_EMBODIMENTS) {
      const w = new TabletopWorld({ embodiment: e, seed: 1, task: 'reach', imageSize: 64 });
      const before = w.render();
      for (let i = 0; i < 10; i++) w.step(expertAction(w));
      const after = w.render();
      assert.notDeepEqual(before, after);
      const colour = simBody(e).colour;
      seen.add(colour.join(','));
      // Some pixel of the image is (nearly) the body's colour, blended at most 15 % with the table.
      let found = false;
      for (let i = 0; i < 64 * 64 && !found; i++) found = close([after[i]!, after[4096 + i]!, after[8192 + i]!], colour, 0.15 * 0.5 + 1e-6);
      assert.ok(found, `${e}: no pixel in its colour`);
    }
    assert.equal(seen.size, SIM_EMBODIMENTS.length);
  });

  test('a snapshot renders to the same bytes every time, and the supersampling option changes the edges only', () => {
    const w = new TabletopWorld({ embodiment: 'arm3', seed: 4 });
    const s = w.snapshot();
    const a = renderScene(s, 32);
    const b = renderScene(JSON.parse(JSON.stringify(s)) as SceneSnapshot, 32);
    assert.deepEqual(Buffer.from(a.buffer), Buffer.from(b.buffer));
    const one = renderScene(s, 32, { supersample: 1 });
    assert.notDeepEqual(one, a);
    assert.deepEqual(pixel(one, 32, 0.5, 0.97), pixel(a, 32, 0.5, 0.97));
    assert.throws(() => renderScene(s, 3), /renderScene: size must be an integer in \[4, 1024\], got 3/);
    assert.throws(() => renderScene(s, 32, { supersample: 0 }), /renderScene: supersample must be an integer in \[1, 8\], got 0/);
  });
});

describe('sceneSvg', () => {
  test('a standalone SVG with the table, the blocks in their colours, the targets, the title (escaped) and the traced path', () => {
    const w = new TabletopWorld({ embodiment: 'hand', seed: 2, task: 'push' });
    const trace = [w.snapshot()];
    while (!w.done()) {
      w.step(expertAction(w));
      trace.push(w.snapshot());
    }
    const svg = sceneSvg(trace.at(-1)!, { trace, title: 'a < b & c', size: 200 });
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="200" height="224"/);
    assert.match(svg, /<\/svg>$/);
    assert.match(svg, /a &lt; b &amp; c/);
    assert.ok(!svg.includes('a < b'));
    for (const c of Object.values(SIM_PALETTE.blocks)) assert.ok(svg.includes(`rgb(${c.map((v) => Math.round(v * 255)).join(',')})`));
    assert.equal((svg.match(/stroke="rgb\(255,255,255\)" stroke-width="0.02"/g) ?? []).length, 2, 'two target rings');
    const points = /<polyline points="([^"]+)"/.exec(svg)![1]!.split(' ');
    assert.equal(points.length, trace.length);
    const [x, y] = points[0]!.split(',').map(Number);
    assert.ok(Math.abs(x! - trace[0]!.eef.x) < 1e-4 && Math.abs(y! - trace[0]!.eef.y) < 1e-4);
    // Balanced tags: every opened element is closed.
    const opened = (svg.match(/<(svg|g)[ >]/g) ?? []).length;
    const closed = (svg.match(/<\/(svg|g)>/g) ?? []).length;
    assert.equal(opened, closed);
    assert.ok(!sceneSvg(trace[0]!).includes('polyline'));
    assert.throws(() => sceneSvg(trace[0]!, { size: -1 }), /sceneSvg: size must be a positive number of pixels, got -1/);
  });
});
