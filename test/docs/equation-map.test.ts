// The equation map (docs/guides/equation-map.md) against the code: every file it names exists, every
// name it lists is exported by its module, every quoted test name occurs in the test file before it, and
// no numbered equation of the paper is left out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

// Compiled to build/test/docs/, three levels below the repository root.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const mapPath = join(root, 'docs', 'guides', 'equation-map.md');

/** One row of the map's table. */
interface Row {
  paper: string;
  module: string;
  tests: string;
}

function rows(): Row[] {
  const lines = readFileSync(mapPath, 'utf8').split('\n');
  const table = lines.filter((l) => l.startsWith('| ') && !l.startsWith('| Paper') && !l.startsWith('|---'));
  return table.map((l) => {
    const cells = l.split(' | ').map((c) => c.replace(/^\|\s*|\s*\|$/g, ''));
    assert.equal(cells.length, 4, `equation map: a row must have 4 cells, got ${cells.length}: ${l}`);
    return { paper: cells[0]!, module: cells[2]!, tests: cells[3]! };
  });
}

/** `path`: `name`, `name`; `path2`: … → [[path, [names]], …] (paths are the code spans with a slash). */
function pathsWithItems(cell: string, item: RegExp): [string, string[]][] {
  const parts: [string, string[]][] = [];
  const token = new RegExp(`\`([^\`]*/[^\`]*)\`|${item.source}`, 'g');
  for (const m of cell.matchAll(token)) {
    if (m[1] !== undefined) parts.push([m[1], []]);
    else {
      assert.ok(parts.length > 0, `equation map: "${m[0]}" comes before any file in: ${cell}`);
      parts[parts.length - 1]![1].push(m[2]!);
    }
  }
  return parts;
}

const exported = (source: string, name: string): boolean =>
  new RegExp(`export\\s+(?:declare\\s+)?(?:abstract\\s+)?(?:async\\s+)?(?:function|class|const|let|interface|type)\\s+${name}\\b`).test(source);

test('the equation map covers Eq. 1–24', () => {
  const covered = new Set<number>();
  for (const { paper } of rows()) {
    const m = /^Eq\. (\d+)(?:–(\d+))?$/.exec(paper);
    if (!m) continue;
    const [lo, hi] = [Number(m[1]), Number(m[2] ?? m[1])];
    for (let e = lo; e <= hi; e++) covered.add(e);
  }
  const missing = Array.from({ length: 24 }, (_, i) => i + 1).filter((e) => !covered.has(e));
  assert.deepEqual(missing, [], `equations without a row: ${missing.join(', ')}`);
});

test('every module the equation map names exists and exports the names listed for it', () => {
  let checked = 0;
  for (const { paper, module } of rows()) {
    const parts = pathsWithItems(module, /`([A-Za-z_$][\w$]*)`/);
    assert.ok(parts.length > 0, `${paper}: no module named`);
    for (const [path, names] of parts) {
      assert.ok(path.startsWith('src/'), `${paper}: module ${path} is not under src/`);
      const file = join(root, path);
      assert.ok(existsSync(file), `${paper}: ${path} does not exist`);
      const source = readFileSync(file, 'utf8');
      for (const name of names) {
        assert.ok(exported(source, name), `${paper}: ${path} does not export ${name}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 30, `only ${checked} exported names were checked`);
});

test('every test the equation map quotes exists, with its exact name, in the file named before it', () => {
  let checked = 0;
  for (const { paper, tests } of rows()) {
    const parts = pathsWithItems(tests, /"([^"]+)"/);
    assert.ok(parts.length > 0, `${paper}: no test file named`);
    for (const [path, names] of parts) {
      assert.ok(path.startsWith('test/') && path.endsWith('.test.ts'), `${paper}: ${path} is not a test file`);
      const file = join(root, path);
      assert.ok(existsSync(file), `${paper}: ${path} does not exist`);
      assert.ok(names.length > 0, `${paper}: no test quoted for ${path}`);
      const source = readFileSync(file, 'utf8');
      for (const name of names) {
        // The name as a string literal, in any of the three quotes.
        const quoted = ["'", '"', '`'].some((q) => source.includes(`${q}${name}${q}`));
        assert.ok(quoted, `${paper}: ${path} has no test named "${name}"`);
        checked++;
      }
    }
  }
  assert.ok(checked > 40, `only ${checked} test names were checked`);
});
