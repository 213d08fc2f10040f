/** The shape of one `maskbox` subcommand, and small output helpers shared by all of them. */
import { InvalidArgumentError } from '../errors.js';

export interface Command {
  /** Words after `maskbox`, e.g. ['eval', 'coco']. */
  path: string[];
  summary: string;
  usage: string;
  /** Returns the process exit code. Throw MaskboxError for user errors: the router prints them. */
  run(argv: string[]): Promise<number>;
}

/**
 * Run node:util parseArgs (strict) and turn its errors (unknown flag, missing value) into
 * InvalidArgumentError. Usage: `const { values } = parseFlags(() => parseArgs({ args: argv, options }))`.
 */
export function parseFlags<R>(parse: () => R): R {
  try {
    return parse();
  } catch (err) {
    throw new InvalidArgumentError('argv', (err as Error).message);
  }
}

/** Parse a numeric flag, naming it in the error. */
export function numberFlag(name: string, value: string | undefined, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new InvalidArgumentError(name, `missing required flag --${name}`);
    return fallback;
  }
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new InvalidArgumentError(name, `Expected a number for --${name} but received '${value}'`);
  return n;
}

export function requireFlag(name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new InvalidArgumentError(name, `missing required flag --${name}`);
  return value;
}

/** Print JSON (for --json) to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Print an aligned text table. */
export function printTable(header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const r of cells)
    process.stdout.write(
      r
        .map((c, i) => (c ?? '').padEnd(widths[i]!))
        .join('  ')
        .trimEnd() + '\n',
    );
}

function formatNumber(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(4);
}
