#!/usr/bin/env node
// Runs every compiled test file under build/test with Node's test runner (Node 20's --test does not
// expand globs). Extra arguments (e.g. a path fragment) filter the files.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.js') ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const files = walk('build/test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('run-tests: no test files found under build/test (run `npm run build:all` first)');
  process.exit(1);
}
// Every test process first loads the fast-check seed setup (a fixed seed unless FC_SEED says otherwise).
const setup = './build/test/helpers/fast-check-seed.js';
const r = spawnSync(process.execPath, ['--import', setup, '--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
