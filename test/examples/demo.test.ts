/**
 * The main demo end to end, reduced (`--quick`): it must run through every stage and write a results
 * table of the right shape and its plots. The numbers of a quick run mean nothing (a few optimiser steps),
 * so only the table's shape and the values' ranges are checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../examples/demo/main.js', import.meta.url));

interface Row {
  experiment: string;
  condition: string;
  embodiment: string;
  metric: string;
  value: number;
  trials: number;
  seeds: string;
}

function run(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

test('demo --quick: every stage runs and the results table has its shape', { timeout: 600_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'being-demo-'));
  try {
    const { code, out } = await run(['--quick', '--out', dir]);
    assert.equal(code, 0, `the demo failed:\n${out}`);
    const { rows } = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as { rows: Row[] };
    const has = (experiment: string, condition: string, embodiment: string, metric: string): Row => {
      const r = rows.find((x) => x.experiment.startsWith(experiment) && x.condition === condition && x.embodiment === embodiment && x.metric === metric);
      assert.ok(r, `no row ${experiment} / ${condition} / ${embodiment} / ${metric}`);
      assert.ok(Number.isFinite(r.value), `${experiment} ${condition} ${embodiment} ${metric}: ${r.value}`);
      assert.ok(r.trials >= 1 && r.seeds.length > 0);
      return r;
    };
    for (const e of ['arm2', 'arm3', 'hand']) {
      for (const c of ['generalist', 'specialist']) {
        const r = has('(a)', c, e, 'success rate');
        assert.ok(r.value >= 0 && r.value <= 1);
      }
      for (const c of ['UAC + MPG', 'neither']) {
        assert.ok(has('(c)', c, e, 'success rate').value <= 1);
        const jumps = rows.filter((x) => x.experiment.startsWith('(c)') && x.condition === c && x.embodiment === e && x.metric !== 'success rate');
        assert.ok(jumps.length >= 2, `(c) ${c} ${e}: jump rows`);
        for (const j of jumps) {
          // End-effector position jumps, in metres: commanded targets lie on the 1 m table, so ≤ √2.
          assert.match(j.metric, /EEF jump \(m\)$/);
          assert.ok(j.value >= 0 && j.value <= Math.SQRT2 + 1e-9, `${j.metric} ${j.value}`);
        }
      }
      for (const c of ['with masked motion', 'without masked motion']) {
        const r = has('(d)', c, e, 'MWDS');
        assert.ok(r.value >= -1 && r.value <= 1);
      }
    }
    for (const c of ['adapted from generalist (arms + hand)', 'adapted from arms-only', 'trained from scratch']) has('(b)', c, 'arm4', 'success rate');
    assert.ok(rows.some((r) => r.experiment.startsWith('deploy') && r.metric === 'success rate'), 'a deployment row');
    const files = await readdir(dir);
    for (const f of ['results.md', 'results.json', 'loss-curves.svg', 'success-a-generalist-vs-specialists.svg', 'success-b-few-shot.svg', 'd-mwds.svg']) assert.ok(files.includes(f), `${f} written`);
    const svgs = files.filter((f) => f.endsWith('.svg'));
    assert.ok(svgs.some((f) => f.startsWith('rollout-')), 'a rollout picture');
    for (const f of svgs) assert.match(await readFile(join(dir, f), 'utf8'), /^<svg[\s\S]*<\/svg>\s*$/, f);
    assert.equal(files.filter((f) => f.endsWith('.tmp')).length, 0, 'no temporary files left');
    const md = await readFile(join(dir, 'results.md'), 'utf8');
    assert.match(md, /\| experiment +\| condition +\| embodiment +\| metric +\| value +\| trials +\| seeds +\|/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('demo: an unknown argument fails with the usage', async () => {
  const { code, out } = await run(['--bogus']);
  assert.notEqual(code, 0);
  assert.match(out, /unknown argument '--bogus'[\s\S]*usage: npm run demo/);
});
