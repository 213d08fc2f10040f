/**
 * A one-line progress bar with images/s and where the time goes (ms per image in each stage, and how
 * busy the cores are), drawn on stderr only when it is a TTY (never into pipes or logs, never on
 * stdout where results and `--json` go).
 */
import type { BatchTimings } from './runner.js';

/** What the runner reports progress to. */
export interface Progress {
  /**
   * `done` inputs handled so far (processed + failed + skipped), of which `processed` and `failed`;
   * `timings` computes the stage times so far (called only when the line is redrawn).
   */
  update(done: number, processed: number, failed: number, elapsedMs: number, timings?: () => BatchTimings): void;
  /** Clear the line (called once at the end). */
  finish(): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Number of inputs when known (draws a bar and an ETA); otherwise only counts. */
  total?: number;
  /** Force on/off; default: on when `stream.isTTY`. */
  enabled?: boolean;
  /** Default `process.stderr`. */
  stream?: NodeJS.WriteStream;
  /** Minimum milliseconds between redraws (default 100). */
  intervalMs?: number;
}

/** A progress reporter that does nothing. */
export const NO_PROGRESS: Progress = { update() {}, finish() {} };

/** Short names of the stages on the progress line. */
const SHORT: Record<string, string> = {
  read: 'read',
  decode: 'dec',
  preprocess: 'pre',
  infer: 'inf',
  postprocess: 'post',
  process: 'proc',
  write: 'wr',
};

/**
 * The stage part of the progress line: ms per image in each stage and the cores' utilisation, e.g.
 * `ms/img dec 31 pre 6 inf 24 post 2 wr 3  cpu 94%` (read is left out when under 1 ms).
 */
export function formatStages(t: BatchTimings): string {
  const parts = Object.entries(t.stages)
    .filter(([k, v]) => k !== 'read' || v >= 1)
    .map(([k, v]) => `${SHORT[k] ?? k} ${v.toFixed(v >= 10 ? 0 : 1)}`);
  return `ms/img ${parts.join(' ')}  cpu ${Math.round(100 * t.utilisation)}%`;
}

/**
 * Format one progress line, e.g. `[########------------]  12/50  3.4 img/s  1 failed  ETA 11s`, with
 * the stage times after it when given (see {@link formatStages}). `rate` is processed images per second.
 */
export function formatProgress(
  done: number,
  total: number | undefined,
  rate: number,
  failed: number,
  width = 24,
  timings?: BatchTimings,
): string {
  const parts: string[] = [];
  if (total !== undefined && total > 0) {
    const filled = Math.min(width, Math.round((done / total) * width));
    parts.push(`[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`, `${done}/${total}`);
  } else {
    parts.push(`${done} images`);
  }
  parts.push(`${rate.toFixed(rate >= 10 ? 0 : 1)} img/s`);
  if (failed > 0) parts.push(`${failed} failed`);
  if (total !== undefined && rate > 0 && done < total) parts.push(`ETA ${Math.ceil((total - done) / rate)}s`);
  if (timings) parts.push(formatStages(timings));
  return parts.join('  ');
}

/** Create the stderr progress bar (a no-op unless enabled / a TTY). */
export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const enabled = options.enabled ?? Boolean(stream.isTTY);
  if (!enabled) return NO_PROGRESS;
  const interval = options.intervalMs ?? 100;
  let last = -Infinity;
  let drawn = false;
  return {
    update(done, processed, failed, elapsedMs, timings) {
      const now = performance.now();
      if (now - last < interval && done !== options.total) return;
      last = now;
      const rate = elapsedMs > 0 ? (processed * 1000) / elapsedMs : 0;
      stream.write(`\r${formatProgress(done, options.total, rate, failed, 24, timings?.())}\x1b[K`);
      drawn = true;
    },
    finish() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
