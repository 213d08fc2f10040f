/** The shape of one `maskbox` subcommand, and small output helpers shared by all of them. */
import { InvalidArgumentError } from '../errors.js';
import { DECIMAL_NUMBER } from '../validate.js';

export interface Command {
  /** Words after `maskbox`, e.g. ['eval', 'coco']. */
  path: string[];
  summary: string;
  usage: string;
  /**
   * The command parses `--backend` itself (e.g. `worker`, where it names an execution provider); the
   * router then leaves it in argv and applies only `MASKBOX_BACKEND`.
   */
  ownsBackendFlag?: boolean;
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

/** Bounds of a numeric flag: `[min, max]` inclusive, `integer` to refuse fractions. */
export interface NumberBounds {
  min?: number;
  max?: number;
  integer?: boolean;
  /** Exclusive lower bound instead of `min` (e.g. `> 0`). */
  above?: number;
}

/**
 * Parse a numeric flag (a decimal number: no hex, no `Infinity`), naming it in the error; with
 * `bounds`, check the range before any work starts.
 */
export function numberFlag(name: string, value: string | undefined, fallback?: number, bounds?: NumberBounds): number {
  if (value === undefined) {
    if (fallback === undefined) throw new InvalidArgumentError(name, `missing required flag --${name}`);
    return fallback;
  }
  const n = Number(value);
  if (!DECIMAL_NUMBER.test(value.trim()) || !Number.isFinite(n))
    throw new InvalidArgumentError(name, `Expected a number for --${name} but received '${value}'`);
  if (bounds) {
    const { min, max, integer, above } = bounds;
    const bad =
      (integer && !Number.isInteger(n)) ||
      (min !== undefined && n < min) ||
      (max !== undefined && n > max) ||
      (above !== undefined && n <= above);
    if (bad) {
      const lo = above !== undefined ? `> ${above}` : min !== undefined ? `>= ${min}` : '';
      const hi = max !== undefined ? `<= ${max}` : '';
      const range = [lo, hi].filter(Boolean).join(' and ');
      throw new InvalidArgumentError(
        name,
        `Expected ${integer ? 'an integer' : 'a number'}${range ? ` ${range}` : ''} for --${name} but received '${value}'`,
      );
    }
  }
  return n;
}

/** An integer flag `>= min` (default 1) and `<= max`. */
export function intFlag(name: string, value: string | undefined, fallback?: number, min = 1, max = 1 << 30): number {
  return numberFlag(name, value, fallback, { integer: true, min, max });
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
