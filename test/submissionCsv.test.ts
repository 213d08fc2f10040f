import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CsvRecordParser,
  SubmissionCsvWriter,
  formatSubmissionCsv,
  indexSubmission,
  readSubmissionCsv,
  readSubmissionRows,
  type SubmissionRow,
} from '../src/io/submissionCsv.js';
import { HANDBONE_CLASSES } from '../src/model/classes.js';
import { ParseError } from '../src/errors.js';

const parseAll = (text: string, chunk = Infinity) => {
  const out: [string[], number][] = [];
  const p = new CsvRecordParser('t.csv', (f, line) => out.push([f, line]));
  for (let i = 0; i < text.length; i += chunk) p.push(text.slice(i, i + chunk));
  if (text.length === 0) p.push('');
  p.end();
  return out;
};

describe('CsvRecordParser', () => {
  it('handles quotes, doubled quotes, embedded commas and newlines, CRLF, BOM and blank lines', () => {
    const text = '\ufeffa,b,c\r\n"x, y","say ""hi""","line1\nline2"\r\n\r\n,,\nlast,row,"q"';
    const want: [string[], number][] = [
      [['a', 'b', 'c'], 1],
      [['x, y', 'say "hi"', 'line1\nline2'], 2],
      [['', '', ''], 5],
      [['last', 'row', 'q'], 6],
    ];
    expect(parseAll(text)).toEqual(want);
    for (const chunk of [1, 2, 3, 7]) expect(parseAll(text, chunk)).toEqual(want);
  });
  it('gives the same records for any chunking (property)', () => {
    const field = fc.string({ unit: fc.constantFrom('a', '1', ' ', ',', '"', '\n', '\r') });
    fc.assert(
      // A record of one empty field is a blank line, which is skipped: leave it out.
      fc.property(
        fc.array(
          fc.array(field, { minLength: 1, maxLength: 4 }).filter((r) => r.length > 1 || r[0] !== ''),
          { maxLength: 6 },
        ),
        fc.integer({ min: 1, max: 9 }),
        (records, chunk) => {
          const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
          const text = records.map((r) => r.map(q).join(',')).join('\r\n');
          const whole = parseAll(text).map(([f]) => f);
          expect(parseAll(text, chunk).map(([f]) => f)).toEqual(whole);
          expect(whole).toEqual(records);
        },
      ),
      { numRuns: 300 },
    );
  });
  it('reports broken quoting with the line', () => {
    expect(() => parseAll('a,b\n"open,x\n')).toThrow(/^t\.csv:2: unterminated quoted field/);
    expect(() => parseAll('a,b\n"x"y,z\n')).toThrow(/^t\.csv:2: unexpected character 'y' after a closing quote/);
  });
});

describe('submission CSV', () => {
  const rows: SubmissionRow[] = [
    { image_name: 'image1661319116107.png', class: 'finger-1', rle: '1 2 10 3' },
    { image_name: 'a,b.png', class: 'finger-2', rle: '' },
    { image_name: 'q"uote.png', class: 'Ulna', rle: '5 1' },
  ];

  it('writes the competition header, quoting only where needed, and reads it back', async () => {
    const text = formatSubmissionCsv(rows);
    expect(text).toBe(
      'image_name,class,rle\nimage1661319116107.png,finger-1,1 2 10 3\n"a,b.png",finger-2,\n"q""uote.png",Ulna,5 1\n',
    );
    const back = await readSubmissionCsv({ text, name: 's.csv' });
    expect(back.map(({ line, ...r }) => r)).toEqual(rows);
    expect(back.map((r) => r.line)).toEqual([2, 3, 4]);
  });

  it('accepts the columns in any order and extra columns', async () => {
    const back = await readSubmissionCsv({ text: 'rle,extra,class,image_name\n1 3,x,Radius,i.png\n' });
    expect(back).toEqual([{ image_name: 'i.png', class: 'Radius', rle: '1 3', line: 2 }]);
  });

  it('rejects a bad header, a wrong field count and an empty file, naming file and line', async () => {
    await expect(readSubmissionCsv({ text: 'image,class,rle\n', name: 'p.csv' })).rejects.toThrow(
      /^p\.csv:1: header must name .* missing image_name/,
    );
    await expect(readSubmissionCsv({ text: 'image_name,class,rle\na,b\n', name: 'p.csv' })).rejects.toThrow(
      /^p\.csv:2: expected 3 fields, found 2/,
    );
    await expect(readSubmissionCsv({ text: '', name: 'p.csv' })).rejects.toThrow(/^p\.csv: empty file/);
    await expect(readSubmissionCsv('/nonexistent/x.csv')).rejects.toThrow(ParseError);
  });

  it('indexes rows by (image_name, class) and rejects duplicates', async () => {
    const recs = await readSubmissionCsv({ text: formatSubmissionCsv(rows) });
    expect(indexSubmission(recs).size).toBe(3);
    const dup = await readSubmissionCsv({ text: formatSubmissionCsv([...rows, rows[1]!]) });
    expect(() => indexSubmission(dup, 'd.csv')).toThrow(
      /^d\.csv:5: duplicate row for image 'a,b\.png', class 'finger-2' \(first at line 3\)/,
    );
  });

  it('streams a file through the writer and reader', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'maskbox-csv-'));
    const path = join(dir, 'sub.csv');
    const w = new SubmissionCsvWriter(path);
    const big = Array.from({ length: 2000 }, (_, k) => `${k * 10 + 1} 5`).join(' ');
    for (let i = 0; i < 20; i++)
      await w.writeImage(
        `img${i}.png`,
        HANDBONE_CLASSES.map((_, c) => (c % 3 === 0 ? big : `${i + 1} ${c + 1}`)),
      );
    await w.close();
    expect(w.rows).toBe(20 * 29);
    const text = await readFile(path, 'utf8');
    expect(text.startsWith('image_name,class,rle\nimg0.png,finger-1,1 5 11 5')).toBe(true);
    let n = 0;
    for await (const r of readSubmissionRows(path)) {
      expect(r.class).toBe(HANDBONE_CLASSES[n % 29]);
      expect(r.line).toBe(n + 2);
      n++;
    }
    expect(n).toBe(580);
    await writeFile(join(dir, 'crlf.csv'), text.replace(/\n/g, '\r\n'));
    expect((await readSubmissionCsv(join(dir, 'crlf.csv'))).length).toBe(580);
  });

  it('waits for drain on a slow stream and rejects bad rows', async () => {
    const sink = new PassThrough({ highWaterMark: 16 });
    const chunks: Buffer[] = [];
    const w = new SubmissionCsvWriter(sink);
    const writing = (async () => {
      for (const r of rows) await w.write(r);
      await w.close();
    })();
    for await (const c of sink) chunks.push(c as Buffer);
    await writing;
    expect(Buffer.concat(chunks).toString()).toBe(formatSubmissionCsv(rows));
    await expect(w.write(rows[0]!)).rejects.toThrow(/after close/);
    const w2 = new SubmissionCsvWriter(new PassThrough());
    await expect(w2.write({ image_name: 'a', class: 'b' } as SubmissionRow)).rejects.toThrow(/row\.rle/);
    await expect(w2.writeImage('a.png', ['1 1'])).rejects.toThrow(/29 RLE strings/);
  });
});
