/**
 * `maskbox dbscan`: cluster 2-D points from a JSON or CSV file with DBSCAN (scikit-learn's labels).
 */
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { ParseError } from '../../errors.js';
import { readTextFile } from '../../io/files.js';
import { parseJsonText } from '../../io/json.js';
import { dbscan } from '../../ops/dbscan.js';
import { DECIMAL_NUMBER } from '../../validate.js';
import { numberFlag, parseFlags, printJson, printTable, requireFlag, type Command } from '../command.js';

/** `[[x, y], ...]` or `{ "points": [[x, y], ...] }` -> flat x,y. */
export function parsePointsJson(text: string, source: string): Float64Array {
  const doc = parseJsonText(text, source);
  const list = Array.isArray(doc)
    ? doc
    : doc !== null && typeof doc === 'object'
      ? (doc as { points?: unknown }).points
      : undefined;
  if (!Array.isArray(list))
    throw new ParseError(source, 'expected an array of [x, y] pairs or an object { "points": [[x, y], ...] }');
  const out = new Float64Array(list.length * 2);
  list.forEach((p, i) => {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'number' || typeof p[1] !== 'number') {
      throw new ParseError(
        source,
        `points[${i}]: expected [x, y] with two numbers but found ${JSON.stringify(p)?.slice(0, 60)}`,
      );
    }
    out[2 * i] = p[0];
    out[2 * i + 1] = p[1];
  });
  return out;
}

/** CSV with a header naming columns `x` and `y` (others ignored), or no header and exactly two columns. */
export function parsePointsCsv(text: string, source: string): Float64Array {
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split(/\r?\n/);
  const values: number[] = [];
  let xi = 0,
    yi = 1,
    width = 2,
    started = false;
  for (let l = 0; l < lines.length; l++) {
    const line = lines[l]!.trim();
    if (line === '') continue;
    const cells = line.split(',').map((c) => c.trim());
    if (!started) {
      started = true;
      if (cells.some((c) => !DECIMAL_NUMBER.test(c))) {
        const names = cells.map((c) => c.replace(/^"(.*)"$/, '$1').toLowerCase());
        xi = names.indexOf('x');
        yi = names.indexOf('y');
        if (xi < 0 || yi < 0)
          throw new ParseError(source, `header must name columns x and y, found '${line.slice(0, 60)}'`, l + 1);
        width = cells.length;
        continue;
      }
    }
    if (cells.length !== width)
      throw new ParseError(source, `expected ${width} columns but found ${cells.length}`, l + 1);
    const x = Number(cells[xi]),
      y = Number(cells[yi]);
    if (
      !DECIMAL_NUMBER.test(cells[xi]!) ||
      !DECIMAL_NUMBER.test(cells[yi]!) ||
      !Number.isFinite(x) ||
      !Number.isFinite(y)
    ) {
      throw new ParseError(
        source,
        `expected decimal numbers x, y but found '${cells[xi]}', '${cells[yi]}' (hexadecimal, Infinity and empty cells are not numbers here)`,
        l + 1,
      );
    }
    values.push(x, y);
  }
  return Float64Array.from(values);
}

/** By extension (.json / .csv), else by the first character (`[` or `{` means JSON). */
export function parsePoints(text: string, source: string): Float64Array {
  const ext = extname(source).toLowerCase();
  const json = ext === '.json' || (ext !== '.csv' && /^\uFEFF?\s*[[{]/.test(text));
  return json ? parsePointsJson(text, source) : parsePointsCsv(text, source);
}

export const dbscanCommand: Command = {
  path: ['dbscan'],
  summary: 'cluster 2-D points with DBSCAN (scikit-learn labels)',
  usage:
    'maskbox dbscan --points POINTS.json|POINTS.csv --eps E --min-samples M [--json]\n' +
    '  JSON: [[x, y], ...] or {"points": [[x, y], ...]}; CSV: a header with columns x and y, or no header and two\n' +
    '  columns. Prints one row per point (index, x, y, label; -1 = noise), or with --json\n' +
    '  {"labels": [...], "clusters": K, "noise": N, "backend": ...}.',
  async run(argv) {
    const { values: v } = parseFlags(() =>
      parseArgs({
        args: argv,
        options: {
          points: { type: 'string' },
          eps: { type: 'string' },
          'min-samples': { type: 'string' },
          json: { type: 'boolean' },
        },
        strict: true,
      }),
    );
    const path = requireFlag('points', v.points);
    const eps = numberFlag('eps', v.eps);
    const minSamples = numberFlag('min-samples', v['min-samples']);
    const text = await readTextFile(path, { argument: 'points' });
    const points = parsePoints(text, path);
    const { labels, clusters, backend } = await dbscan(points, { eps, minSamples });
    if (v.json) {
      let noise = 0;
      for (const l of labels) if (l < 0) noise++;
      printJson({ labels: Array.from(labels), clusters, noise, backend });
    } else {
      printTable(
        ['index', 'x', 'y', 'label'],
        Array.from(labels, (l, i) => [i, String(points[2 * i]), String(points[2 * i + 1]), l]),
      );
    }
    return 0;
  },
};
