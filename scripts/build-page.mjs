#!/usr/bin/env node
// Builds the web page of `maskbox serve` into dist/page: page.js (esbuild bundle of web/main.ts,
// browser platform, minified, no CDN, nothing fetched at run time), index.html and page.css copied.
// Prints the sizes. Usage: node scripts/build-page.mjs [--out DIR]
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'web');

/**
 * Build the page into `out` (default dist/page). Returns the files with their sizes in bytes.
 * @param {{ out?: string, quiet?: boolean }} [options]
 */
export async function buildPage(options = {}) {
  const out = options.out ?? join(root, 'dist/page');
  const { build } = await import('esbuild');
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(src, 'main.ts')],
    outfile: join(out, 'page.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  copyFileSync(join(src, 'index.html'), join(out, 'index.html'));
  copyFileSync(join(src, 'page.css'), join(out, 'page.css'));
  const files = ['page.js', 'index.html', 'page.css'].map((f) => {
    const p = join(out, f);
    return { file: f, bytes: statSync(p).size, gzip: gzipSync(readFileSync(p)).length };
  });
  if (!options.quiet) {
    for (const f of files) console.log(`${join(out, f.file)}  ${f.bytes} bytes (${f.gzip} gzipped)`);
  }
  return files;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  await buildPage({ out: i > 0 ? resolve(process.argv[i + 1]) : undefined, quiet: process.argv.includes('--quiet') });
}
