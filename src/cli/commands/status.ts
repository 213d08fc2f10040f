/** `maskbox status`: progress and errors of a distributed run (src/distributed). */
import { parseArgs } from 'node:util';
import { runStatus, type RunStatus } from '../../distributed/status.js';
import { formatProgress } from '../../pipeline/progress.js';
import { numberFlag, parseFlags, printJson, printTable, requireFlag, type Command } from '../command.js';

const options = {
  queue: { type: 'string' },
  run: { type: 'string' },
  watch: { type: 'boolean' },
  interval: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const finished = (s: RunStatus) => s.state === 'done' || s.state === 'failed';

function line(s: RunStatus): string {
  const eta = s.etaSeconds !== undefined ? `  ETA ${Math.ceil(s.etaSeconds)}s` : '';
  return (
    `${formatProgress(s.done + s.failed, s.total, s.imagesPerSecond, s.failed).replace(/\s+ETA.*$/, '')}` +
    `  ${s.active} active  ${s.waiting} waiting${eta}  [${s.state}]`
  );
}

function print(s: RunStatus): void {
  printTable(
    ['', 'value'],
    [
      ['run', s.run],
      ['state', s.state],
      ['images', s.total],
      ['done', s.done],
      ['failed', s.failed],
      ['active', s.active],
      ['waiting', s.waiting],
      ['images/s', s.imagesPerSecond.toFixed(2)],
      ...(s.etaSeconds !== undefined ? [['ETA (s)', Math.ceil(s.etaSeconds)] as [string, number]] : []),
      ...Object.entries(s.outputs).map(([k, p]) => [`out (${k})`, p] as [string, string]),
    ],
  );
  if (s.failedReason) process.stderr.write(`maskbox: writing the outputs failed: ${s.failedReason}\n`);
  if (s.errors.length > 0) {
    const shown = s.errors.slice(0, 20).map((e) => `  ${e.message}`);
    const more = s.errors.length - shown.length;
    process.stderr.write(
      `maskbox: ${s.failed} image(s) failed:\n${shown.join('\n')}\n${more > 0 ? `  … and ${more} more\n` : ''}`,
    );
  }
}

/** `maskbox status --queue URL --run NAME [--watch] [--json]`. */
export const statusCommand: Command = {
  path: ['status'],
  summary: 'Show the progress and errors of a distributed run (maskbox submit)',
  usage:
    'maskbox status --queue redis://HOST:PORT/DB --run NAME [--watch] [--interval 1] [--json]\n' +
    '  done / failed / active / waiting images, images/s, ETA and the per-image error list.\n' +
    '  --watch redraws every --interval seconds until the run is combined. Exit 0 when the run is running or\n' +
    '  done without failures, 1 when images failed or the outputs could not be written.',
  async run(argv) {
    const { values: v } = parseFlags(() => parseArgs({ args: argv, options, allowPositionals: false, strict: true }));
    const queue = requireFlag('queue', v.queue);
    const run = requireFlag('run', v.run);
    const interval = numberFlag('interval', v.interval, 1);
    let s = await runStatus(queue, run);
    if (v.watch) {
      const tty = process.stderr.isTTY;
      while (!finished(s)) {
        process.stderr.write(tty ? `\r${line(s)}\x1b[K` : `${line(s)}\n`);
        await new Promise((r) => setTimeout(r, interval * 1000));
        s = await runStatus(queue, run);
      }
      if (tty) process.stderr.write('\r\x1b[K');
    }
    if (v.json) printJson(s);
    else print(s);
    return s.state === 'failed' || (finished(s) && s.failed > 0) ? 1 : 0;
  },
};
