#!/usr/bin/env node
/**
 * Bundles the browser entry (src/browser.ts: the ops on the js and webgpu backends, WebGPU through
 * `navigator.gpu`) into one ES module, dist/browser/maskbox.js, with esbuild (platform browser,
 * nothing fetched at run time). Fails when anything in the bundle imports a Node built-in.
 * Usage: node scripts/build-browser.mjs [--out DIR] [--minify]; or `import { buildBrowser }`.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Build the bundle into `out` (default dist/browser). Resolves with the file and its size.
 * @param {{ out?: string, minify?: boolean }} [options]
 */
export async function buildBrowser(options = {}) {
  const out = options.out ?? join(root, 'dist/browser');
  const { build } = await import('esbuild');
  mkdirSync(out, { recursive: true });
  const file = join(out, 'maskbox.js');
  const nodeImports = [];
  await build({
    entryPoints: [join(root, 'src/browser.ts')],
    outfile: file,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: options.minify ?? false,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'silent',
    plugins: [
      {
        name: 'no-node-builtins',
        setup(b) {
          b.onResolve({ filter: /^node:|^(fs|path|url|module|os|child_process|worker_threads|stream)$/ }, (a) => {
            nodeImports.push(`${a.path} (from ${a.importer})`);
            return { path: a.path, external: true };
          });
        },
      },
    ],
  });
  if (nodeImports.length > 0) throw new Error(`the browser bundle imports Node built-ins: ${nodeImports.join(', ')}`);
  return { file, bytes: statSync(file).size };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const r = await buildBrowser({ out: i > 0 ? resolve(process.argv[i + 1]) : undefined, minify: process.argv.includes('--minify') });
  console.log(`maskbox: built ${r.file} (${(r.bytes / 1024).toFixed(1)} KiB)`);
}
