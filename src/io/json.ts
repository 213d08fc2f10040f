/**
 * JSON text for every maskbox reader: a leading UTF-8 byte-order mark is accepted (as the CSV readers
 * do), nesting deeper than {@link MAX_JSON_DEPTH} is refused before parsing (so no later recursive
 * walk can overflow the stack), and syntax errors become a ParseError naming the file and line.
 */
import { ParseError } from '../errors.js';

/** Deepest nesting of arrays/objects accepted (COCO files need 4 or 5). */
export const MAX_JSON_DEPTH = 512;

/** 1-based line of a character offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * The deepest nesting of `[`/`{` outside strings, or the offset where it first exceeds `limit`
 * (`{ depth, at }`; `at` is -1 when within the limit).
 */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): { depth: number; at: number } {
  let depth = 0,
    max = 0,
    inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return { depth: max, at: i };
      }
    } else if (c === 93 || c === 125) depth--;
  }
  return { depth: max, at: -1 };
}

/**
 * Parse JSON text from `source` (a file name for messages).
 * @throws ParseError for a syntax error (with its line) or nesting deeper than `maxDepth`
 */
export function parseJsonText(text: string, source: string, maxDepth = MAX_JSON_DEPTH): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const { at } = jsonDepth(body, maxDepth);
  if (at >= 0)
    throw new ParseError(
      source,
      `JSON nested deeper than ${maxDepth} levels (line ${lineAt(body, at)}); refusing to parse`,
    );
  try {
    return JSON.parse(body);
  } catch (err) {
    const msg = (err as Error).message;
    const line = /line (\d+)/.exec(msg);
    const pos = /position (\d+)/.exec(msg);
    const where = line ? Number(line[1]) : pos ? lineAt(body, Number(pos[1])) : undefined;
    throw new ParseError(source, `invalid JSON${where === undefined ? '' : ` (line ${where})`}: ${msg}`);
  }
}

/** Describe a JSON value for messages: numbers too large for float64 (`1e999`) say so instead of `null`. */
export function showJson(v: unknown, max = 60): string {
  if (typeof v === 'number' && !Number.isFinite(v))
    return Number.isNaN(v) ? 'NaN' : `${v > 0 ? '' : '-'}a number too large for float64 (parsed as ${v})`;
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    s = undefined;
  }
  return s === undefined ? String(v) : s.length > max ? s.slice(0, max) + '…' : s;
}
