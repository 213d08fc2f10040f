#!/usr/bin/env node
// Runs the maskbox CLI from the TypeScript sources via tsx, whatever dist/ holds (it may be stale).
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { tsImport } = await import('tsx/esm/api');
const mod = await tsImport(pathToFileURL(join(root, 'src', 'cli', 'index.ts')).href, import.meta.url);
process.exitCode = await mod.main(process.argv.slice(2));
