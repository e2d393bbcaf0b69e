/**
 * Turns a CommonJS package and everything it `require`s (static specifiers only) into one ES module
 * whose default export is the package's `module.exports`, so that a browser page can import the built
 * package's CommonJS dependencies (seedrandom, ndarray) through an import map. Node built-ins are left
 * out, as are specifiers that do not resolve (such as a `require` in a comment): requiring one throws,
 * as in a browser (the packages here guard such requires with try/catch).
 */
import { readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';

const REQUIRE = /\brequire\(\s*(['"])([^'"]+)\1\s*\)/g;

/** The ES module source for package `name`, resolved from `fromFile`'s location. */
export function cjsToEsm(name: string, fromFile: string): string {
  const ids = new Map<string, number>();
  const defs: string[] = [];
  const visit = (path: string): number => {
    const known = ids.get(path);
    if (known !== undefined) return known;
    const id = ids.size;
    ids.set(path, id);
    const source = readFileSync(path, 'utf8');
    const req = createRequire(path);
    const deps: Record<string, number> = {};
    for (const m of source.matchAll(REQUIRE)) {
      const spec = m[2]!;
      if (builtinModules.includes(spec.replace(/^node:/, '')) || spec in deps) continue;
      let resolved: string;
      try {
        resolved = req.resolve(spec);
      } catch {
        continue; // e.g. a require() in a comment; requiring it for real throws, as for a built-in
      }
      deps[spec] = visit(resolved);
    }
    defs[id] = `${id}: [${JSON.stringify(deps)}, function (module, exports, require) {\n${source}\n}]`;
    return id;
  };
  const entry = visit(createRequire(fromFile).resolve(name));
  return `const defs = {\n${defs.join(',\n')}\n};
const cache = {};
function load(id) {
  if (id in cache) return cache[id].exports;
  const [deps, fn] = defs[id];
  const module = (cache[id] = { exports: {} });
  fn.call(module.exports, module, module.exports, (spec) => {
    if (!(spec in deps)) throw new Error('Cannot find module ' + spec);
    return load(deps[spec]);
  });
  return module.exports;
}
export default load(${entry});
`;
}
