/** Shared benchmark helpers: medians of repeated runs, machine description, markdown tables. */
import { cpus, totalmem } from 'node:os';

export interface Timing {
  median: number;
  min: number;
  runs: number;
}

/** Run `fn` `warmup` times, then `repeats` times; returns the median and min wall time in ms. */
export async function timeit(fn: () => unknown, repeats = 7, warmup = 1): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const s = process.hrtime.bigint();
    await fn();
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  t.sort((a, b) => a - b);
  return { median: t[Math.floor(t.length / 2)]!, min: t[0]!, runs: repeats };
}

export function machine(): string {
  const c = cpus();
  return `${c[0]?.model ?? 'unknown CPU'}, ${c.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

export function table(header: string[], rows: (string | number)[][]): string {
  const fmt = (v: string | number) =>
    typeof v === 'number' ? (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toPrecision(3)) : v;
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(fmt).join(' | ')} |`),
  ].join('\n');
}

/** YOLO-like candidate boxes: clusters of ~30 jittered boxes around objects in a 2048² frame, random scores (seeded LCG). */
export function yoloLikeBoxes(n: number, seed = 1): { boxes: Float32Array; scores: Float32Array } {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) >>> 0), s / 4294967296);
  const objects = Math.max(1, Math.round(n / 30));
  const centers = Array.from({ length: objects }, () => [r() * 2048, r() * 2048, 20 + r() * 60, 20 + r() * 60]);
  const boxes = new Float32Array(n * 4),
    scores = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const [cx, cy, w, h] = centers[i % objects]!;
    const x = cx! + (r() - 0.5) * w! * 0.4,
      y = cy! + (r() - 0.5) * h! * 0.4;
    const ww = w! * (0.8 + r() * 0.4),
      hh = h! * (0.8 + r() * 0.4);
    boxes.set([x - ww / 2, y - hh / 2, x + ww / 2, y + hh / 2], i * 4);
    scores[i] = r();
  }
  return { boxes, scores };
}
