#!/usr/bin/env node
/**
 * `npm run lint`'s import-cycle check: builds the graph of runtime imports (`import type` and
 * `export type` lines are erased by TypeScript and ignored) between the .ts files under src/ and
 * bindings/, and fails listing every cycle it finds (Tarjan's strongly connected components).
 * Also fails when a file under src/ops/ imports a backend other than the registry at run time, or
 * when the browser entry reaches a `node:` module.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) files.push(p);
  }
};
for (const d of ['src', 'bindings']) walk(join(ROOT, d));

// Runtime import/export-from statements (multi-line included); type-only ones are skipped.
const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const graph = new Map();
const bare = new Map();
for (const f of files) {
  const text = readFileSync(f, 'utf8');
  const deps = [];
  const ext = [];
  for (const m of text.matchAll(IMPORT)) {
    if (m[2]) continue; // import type / export type
    if (m[3] && /^\{[^}]*\}$/s.test(m[3]) && m[3].slice(1, -1).split(',').every((s) => /^\s*(type\s+\S.*)?\s*$/s.test(s))) continue;
    const spec = m[4] ?? m[5] ?? m[6];
    if (!spec.startsWith('.')) {
      ext.push(spec);
      continue;
    }
    const target = resolve(dirname(f), spec.replace(/\.js$/, '.ts'));
    deps.push(target);
  }
  graph.set(f, deps.filter((d) => files.includes(d)));
  bare.set(f, ext);
}

const problems = [];
// Tarjan's SCC.
let index = 0;
const idx = new Map(), low = new Map(), stack = [], on = new Set();
const strong = (v) => {
  idx.set(v, index), low.set(v, index), index++, stack.push(v), on.add(v);
  for (const w of graph.get(v)) {
    if (!idx.has(w)) strong(w), low.set(v, Math.min(low.get(v), low.get(w)));
    else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do (w = stack.pop()), on.delete(w), comp.push(w);
    while (w !== v);
    if (comp.length > 1 || graph.get(v).includes(v))
      problems.push(`import cycle: ${comp.map((c) => relative(ROOT, c)).sort().join(' <-> ')}`);
  }
};
for (const f of files) if (!idx.has(f)) strong(f);

// Ops depend on the registry only (plus other ops, validation, errors and the JS reference helpers).
for (const f of files.filter((f) => relative(ROOT, f).startsWith('src/ops/'))) {
  for (const d of graph.get(f)) {
    const r = relative(ROOT, d);
    if (r === 'src/backends/index.ts' || r.startsWith('bindings/') || /^src\/backends\/(cpu|webgpu|cuda)\//.test(r))
      problems.push(`${relative(ROOT, f)} imports ${r} at run time: ops depend on the registry only`);
  }
}

// The browser entry's runtime closure has no node: imports and no Node-only packages.
const browserEntry = join(ROOT, 'src/browser.ts');
if (files.includes(browserEntry)) {
  const seen = new Set([browserEntry]);
  const todo = [browserEntry];
  while (todo.length) {
    const f = todo.pop();
    for (const spec of bare.get(f)) {
      if (spec.startsWith('node:') || ['webgpu', 'sharp', 'onnxruntime-node', 'fs', 'path'].includes(spec))
        problems.push(`browser entry reaches '${spec}' through ${relative(ROOT, f)}`);
    }
    for (const d of graph.get(f)) if (!seen.has(d)) seen.add(d), todo.push(d);
  }
}

if (problems.length) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log(`check-cycles: ${files.length} files, no runtime import cycle`);
