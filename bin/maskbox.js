#!/usr/bin/env node
// Thin launcher: runs the compiled CLI from dist/, or the TypeScript sources via tsx in a checkout.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'src', 'cli', 'index.js');
let mod;
if (existsSync(built)) {
  mod = await import(pathToFileURL(built).href);
} else {
  const { tsImport } = await import('tsx/esm/api');
  mod = await tsImport(pathToFileURL(join(root, 'src', 'cli', 'index.ts')).href, import.meta.url);
}
process.exitCode = await mod.main(process.argv.slice(2));
