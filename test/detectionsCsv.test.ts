import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COMBINED_DETECTIONS_CSV_HEADER,
  detectionsToRows,
  formatCombinedRows,
  formatDetectionsCsv,
  parseDetectionsCsv,
  pyFloatRepr,
  resultCsvName,
  roundHalfEven,
  splitCsvLine,
} from '../src/io/detectionsCsv.js';
import { InvalidArgumentError, ParseError } from '../src/errors.js';
import { REPO } from './helpers.js';

interface GoldenCase {
  name: string;
  width: number;
  height: number;
  boxes: number[];
  scores: number[];
  rows: [number, number, number, number, string, number][];
  csv: string;
}
const golden = JSON.parse(readFileSync(join(REPO, 'test/goldens/pipeline/csv_rule.json'), 'utf8')) as {
  cases: GoldenCase[];
  reprs: [number, string][];
};

describe('lab CSV rule (golden from scripts/goldens/detections_csv.py)', () => {
  for (const c of golden.cases) {
    it(c.name, () => {
      const boxes = Float32Array.from(c.boxes);
      const scores = Float32Array.from(c.scores);
      expect(formatDetectionsCsv(boxes, scores, { width: c.width, height: c.height })).toBe(c.csv);
      const rows = detectionsToRows(boxes, scores, { width: c.width, height: c.height });
      expect(rows.map((r) => [r.x_center, r.y_center, r.width, r.height, pyFloatRepr(r.confidence), r.area])).toEqual(
        c.rows,
      );
    });
  }

  it('keeps the given (NMS) order and does not clip without an image size', () => {
    const rows = detectionsToRows(new Float32Array([-2.5, 0, 3.5, 4, 10, 10, 12, 12]), new Float32Array([0.5, 0.9]));
    expect(rows[0]).toMatchObject({ width: 6, height: 4, x_center: 1, area: 24 });
    expect(rows[1]!.confidence).toBe(Math.fround(0.9));
  });

  it('rejects bad arguments by name', () => {
    expect(() => detectionsToRows(new Float32Array(3), [])).toThrow(InvalidArgumentError);
    expect(() => detectionsToRows(new Float32Array(4), [])).toThrow(/scores/);
    expect(() => detectionsToRows(new Float32Array(4), [1], { width: 10 })).toThrow(/height/);
  });
});

describe('roundHalfEven', () => {
  it('matches Python round on halves and near-halves', () => {
    const cases: [number, number][] = [
      [0.5, 0],
      [1.5, 2],
      [2.5, 2],
      [-0.5, 0],
      [-1.5, -2],
      [-2.5, -2],
      [2.4999999, 2],
      [2.5000001, 3],
      [1e15 + 0.5, 1e15],
    ];
    for (const [x, want] of cases) expect(roundHalfEven(x)).toBe(want);
    expect(Object.is(roundHalfEven(-0.4), 0)).toBe(true);
  });
  it('differs from Math.round only on odd-integer halves', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: 0, max: 3 }), (k, q) => {
        const x = k + q / 4;
        const even = roundHalfEven(x);
        if (q !== 2)
          expect(even).toBe(Math.round(x) || 0); // no -0
        else expect(even % 2 === 0).toBe(true);
      }),
    );
  });
});

describe('pyFloatRepr (Python repr of a float)', () => {
  it('formats like CPython', () => {
    const cases: [number, string][] = [
      [1, '1.0'],
      [0.5, '0.5'],
      [Math.fround(0.9), '0.8999999761581421'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [Math.fround(1e-5), '9.999999747378752e-06'],
      [1e16, '1e+16'],
      [1234567890123456, '1234567890123456.0'],
      [1.5e16, '1.5e+16'],
      [123.456, '123.456'],
      [-2.5, '-2.5'],
      [0, '0.0'],
      [-0, '-0.0'],
      [NaN, 'nan'],
      [Infinity, 'inf'],
      [1e-300, '1e-300'],
      [5e-324, '5e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
    ];
    for (const [x, want] of cases) expect(pyFloatRepr(x)).toBe(want);
  });
  it('matches CPython repr on the golden values', () => {
    for (const [x, want] of golden.reprs) expect(pyFloatRepr(x)).toBe(want);
  });
  it('round-trips every float32 score', () => {
    fc.assert(
      fc.property(fc.float({ min: 0, max: 1, noNaN: true }), (f) => {
        expect(Number(pyFloatRepr(f))).toBe(f);
      }),
    );
  });
});

describe('file names and reading back', () => {
  it('names per-image files like the lab', () => {
    expect(resultCsvName('img_01.png')).toBe('img_01_result.csv');
    expect(resultCsvName('sub/a.b.tif')).toBe('sub/a.b_result.csv');
    expect(resultCsvName('noext')).toBe('noext_result.csv');
    expect(resultCsvName('dir.x/.hidden')).toBe('dir.x/.hidden_result.csv');
  });
  it('parses what it writes, per-image and combined (with quoting)', () => {
    const boxes = new Float32Array([1, 2, 11, 22, 5.5, 5.5, 9.5, 9.5]);
    const scores = new Float32Array([0.75, 0.5]);
    const per = parseDetectionsCsv(formatDetectionsCsv(boxes, scores));
    expect(per).toEqual(detectionsToRows(boxes, scores));
    const text = COMBINED_DETECTIONS_CSV_HEADER + '\n' + formatCombinedRows('a,"b".png', boxes, scores);
    const comb = parseDetectionsCsv(text);
    expect(comb.map((r) => r.image)).toEqual(['a,"b".png', 'a,"b".png']);
    expect(splitCsvLine('"x""y",1,')).toEqual(['x"y', '1', '']);
  });
  it('reports the line of a malformed row', () => {
    const bad = 'x_center,y_center,width,height,confidence,area\n1,2,3,4,0.5,12\n1,2,x,4,0.5,12\n';
    expect(() => parseDetectionsCsv(bad, 'r.csv')).toThrow(ParseError);
    expect(() => parseDetectionsCsv(bad, 'r.csv')).toThrow(/r\.csv:3:/);
    expect(() => parseDetectionsCsv('a,b\n', 'h.csv')).toThrow(/h\.csv:1:/);
  });
});
