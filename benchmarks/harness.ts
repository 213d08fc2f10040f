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
