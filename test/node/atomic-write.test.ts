import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/node/index.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'being-atomic-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('writeFileAtomic: writes text, bytes and pieces in order, replacing the old file', async () => {
  await withDir(async (dir) => {
    const p = join(dir, 'out.txt');
    await writeFileAtomic(p, 'first');
    assert.equal(await readFile(p, 'utf8'), 'first');
    await writeFileAtomic(p, new Uint8Array([104, 105]));
    assert.equal(await readFile(p, 'utf8'), 'hi');
    await writeFileAtomic(p, (async function* () {
      yield new TextEncoder().encode('a');
      yield new TextEncoder().encode('bc');
    })());
    assert.equal(await readFile(p, 'utf8'), 'abc');
    assert.deepEqual(await readdir(dir), ['out.txt'], 'no temporary file is left behind');
  });
});

test('writeFileAtomic: a failure part-way leaves the old file intact and removes the temporary file', async () => {
  await withDir(async (dir) => {
    const p = join(dir, 'keep.bin');
    await writeFile(p, 'old contents');
    const failing = (function* () {
      yield new Uint8Array(1000).fill(7);
      throw new Error('source failed');
    })();
    await assert.rejects(writeFileAtomic(p, failing), /source failed/);
    assert.equal(await readFile(p, 'utf8'), 'old contents');
    assert.deepEqual(await readdir(dir), ['keep.bin']);
  });
});

test('writeFileAtomic: a missing directory rejects with the path', async () => {
  await withDir(async (dir) => {
    await assert.rejects(writeFileAtomic(join(dir, 'no', 'such', 'f.txt'), 'x'), /no[/\\]such/);
  });
});
