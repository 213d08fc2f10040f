/**
 * PNG plots of an evaluation report (`maskbox eval coco --plots DIR`): SVG drawn here, rendered to PNG
 * by sharp (librsvg), written to a temp file and renamed into place.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ClassCurves, ConfusionMatrix, SizeRecall } from './detectionReport.js';

const W = 640,
  H = 480,
  L = 64,
  R = 24,
  T = 40,
  B = 56;
const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function frame(title: string, xLabel: string, yLabel: string, body: string, xTicks = true): string {
  const pw = W - L - R,
    ph = H - T - B;
  let grid = '';
  for (let i = 0; i <= 5; i++) {
    const v = i / 5;
    const x = L + v * pw,
      y = T + ph - v * ph;
    if (xTicks)
      grid +=
        `<line x1="${x}" y1="${T}" x2="${x}" y2="${T + ph}" stroke="#ddd"/>` +
        `<text x="${x}" y="${T + ph + 16}" text-anchor="middle">${v.toFixed(1)}</text>`;
    grid +=
      `<line x1="${L}" y1="${y}" x2="${L + pw}" y2="${y}" stroke="#ddd"/>` +
      `<text x="${L - 6}" y="${y + 4}" text-anchor="end">${v.toFixed(1)}</text>`;
  }
  return svg(
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16">${esc(title)}</text>${grid}` +
      `<rect x="${L}" y="${T}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>` +
      `<text x="${L + pw / 2}" y="${H - 16}" text-anchor="middle">${esc(xLabel)}</text>` +
      `<text transform="translate(18 ${T + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>${body}`,
  );
}

function svg(inner: string, w = W, h = H): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="DejaVu Sans, sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/>${inner}</svg>`;
}

/** Line chart of series over [0,1]x[0,1]. */
export function lineChartSvg(
  title: string,
  xLabel: string,
  yLabel: string,
  series: { name: string; x: ArrayLike<number>; y: ArrayLike<number> }[],
): string {
  const pw = W - L - R,
    ph = H - T - B;
  let body = '';
  series.forEach((s, i) => {
    const c = COLOURS[i % COLOURS.length]!;
    const pts: string[] = [];
    for (let j = 0; j < s.x.length; j++) {
      const y = s.y[j]!;
      if (!(y >= 0)) continue;
      pts.push(`${(L + s.x[j]! * pw).toFixed(1)},${(T + ph - Math.min(1, y) * ph).toFixed(1)}`);
    }
    body += `<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.join(' ')}"/>`;
    body += `<rect x="${L + pw - 200}" y="${T + 8 + i * 16}" width="10" height="10" fill="${c}"/><text x="${L + pw - 184}" y="${T + 17 + i * 16}">${esc(s.name)}</text>`;
  });
  return frame(title, xLabel, yLabel, body);
}

/** Heatmap of a confusion matrix, each column normalised to the true class's count (counts printed). */
export function confusionSvg(cm: ConfusionMatrix): string {
  const n = cm.labels.length;
  const cell = Math.max(28, Math.min(80, Math.floor(480 / n)));
  const x0 = 140,
    y0 = 60;
  const w = x0 + n * cell + 20,
    h = y0 + n * cell + 110;
  let body = `<text x="${w / 2}" y="24" text-anchor="middle" font-size="16">Confusion matrix (conf ${cm.conf}, IoU ${cm.iou})</text>`;
  for (let t = 0; t < n; t++) {
    let col = 0;
    for (let p = 0; p < n; p++) col += cm.counts[p * n + t]!;
    for (let p = 0; p < n; p++) {
      const v = cm.counts[p * n + t]!;
      const f = col > 0 ? v / col : 0;
      const shade = Math.round(255 - f * 200);
      body +=
        `<rect x="${x0 + t * cell}" y="${y0 + p * cell}" width="${cell}" height="${cell}" fill="rgb(${shade},${shade},255)" stroke="#fff"/>` +
        `<text x="${x0 + t * cell + cell / 2}" y="${y0 + p * cell + cell / 2 + 4}" text-anchor="middle">${v}</text>`;
    }
  }
  cm.labels.forEach((l, i) => {
    body += `<text x="${x0 - 6}" y="${y0 + i * cell + cell / 2 + 4}" text-anchor="end">${esc(l)}</text>`;
    body += `<text transform="translate(${x0 + i * cell + cell / 2} ${y0 + n * cell + 8}) rotate(45)">${esc(l)}</text>`;
  });
  body += `<text x="${x0 + (n * cell) / 2}" y="${h - 8}" text-anchor="middle">true</text>`;
  body += `<text transform="translate(16 ${y0 + (n * cell) / 2}) rotate(-90)" text-anchor="middle">predicted</text>`;
  return svg(body, w, h);
}

/** Bar chart of recall by object size (IoU 0.5 and IoU .50:.95). */
export function sizeRecallSvg(rows: readonly SizeRecall[]): string {
  const pw = W - L - R,
    ph = H - T - B;
  const slot = pw / Math.max(1, rows.length);
  let body = '';
  rows.forEach((r, i) => {
    const bars = [
      [r.recall50, COLOURS[0]!],
      [r.recall, COLOURS[1]!],
    ] as const;
    bars.forEach(([v, c], j) => {
      const bh = Math.max(0, v) * ph;
      const x = L + i * slot + slot * 0.15 + j * slot * 0.35;
      body += `<rect x="${x.toFixed(1)}" y="${(T + ph - bh).toFixed(1)}" width="${(slot * 0.33).toFixed(1)}" height="${bh.toFixed(1)}" fill="${c}"/>`;
      body += `<text x="${(x + slot * 0.165).toFixed(1)}" y="${(T + ph - bh - 4).toFixed(1)}" text-anchor="middle">${v < 0 ? 'n/a' : v.toFixed(2)}</text>`;
    });
    body += `<text x="${(L + i * slot + slot / 2).toFixed(1)}" y="${T + ph + 32}" text-anchor="middle">${esc(r.area)} (${r.gt} GT)</text>`;
  });
  body += `<rect x="${L + 8}" y="${T + 8}" width="10" height="10" fill="${COLOURS[0]}"/><text x="${L + 24}" y="${T + 17}">recall IoU 0.50</text>`;
  body += `<rect x="${L + 8}" y="${T + 24}" width="10" height="10" fill="${COLOURS[1]}"/><text x="${L + 24}" y="${T + 33}">recall IoU .50:.95</text>`;
  return frame('Recall by object size', '', 'recall', body, false);
}

/** Render an SVG to `path` as PNG (temp file + rename). */
export async function writeSvgPng(svgText: string, path: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await sharp(Buffer.from(svgText)).png().toFile(tmp);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Write pr_curve.png, f1_curve.png, confusion_matrix.png and recall_by_size.png into `dir`; returns the paths. */
export async function writeEvalPlots(
  dir: string,
  curves: readonly ClassCurves[],
  cm: ConfusionMatrix,
  sizes: readonly SizeRecall[],
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const named = (s: ClassCurves, v: number) => `${s.name} (${v.toFixed(3)})`;
  const files: [string, string][] = [
    [
      'pr_curve.png',
      lineChartSvg(
        'Precision-recall (IoU 0.5)',
        'recall',
        'precision',
        curves.map((c) => ({ name: named(c, c.best.f1), x: c.recall, y: c.precision })),
      ),
    ],
    [
      'f1_curve.png',
      lineChartSvg(
        'F1 against confidence (IoU 0.5)',
        'confidence',
        'F1',
        curves.map((c) => ({
          name: `${c.name} (best ${c.best.f1.toFixed(2)} at ${c.best.conf.toFixed(2)})`,
          x: c.conf,
          y: c.f1,
        })),
      ),
    ],
    ['confusion_matrix.png', confusionSvg(cm)],
    ['recall_by_size.png', sizeRecallSvg(sizes.filter((s) => s.area !== 'all'))],
  ];
  const out: string[] = [];
  for (const [name, text] of files) {
    const p = join(dir, name);
    await writeSvgPng(text, p);
    out.push(p);
  }
  return out;
}
