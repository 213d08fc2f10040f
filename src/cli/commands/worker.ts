/** `maskbox worker`: run distributed jobs from a BullMQ queue on Redis until SIGTERM (src/distributed). */
import { parseArgs } from 'node:util';
import { createWorker } from '../../distributed/worker.js';
import type { ExecutionProvider } from '../../model/session.js';
import { numberFlag, parseFlags, requireFlag, type Command } from '../command.js';

const options = {
  queue: { type: 'string' },
  concurrency: { type: 'string' },
  backend: { type: 'string' },
  model: { type: 'string' },
  'lock-ms': { type: 'string' },
  'stalled-ms': { type: 'string' },
} as const;

/** `maskbox worker --queue URL`. */
export const workerCommand: Command = {
  path: ['worker'],
  ownsBackendFlag: true, // --backend here is the model's execution provider
  summary: 'Run jobs of distributed runs (maskbox submit) from a BullMQ queue on Redis until stopped',
  usage:
    'maskbox worker --queue redis://HOST:PORT/DB [--concurrency 1] [--backend cpu|cuda|webgpu] [--model M.onnx]\n' +
    '    [--lock-ms 30000] [--stalled-ms 30000]\n' +
    '  Prints one health line (backend, model, queue) and runs until SIGTERM/SIGINT: the jobs in hand finish,\n' +
    '  then it exits 0 (a second signal drops them; the queue hands them to another worker).\n' +
    '  --model M.onnx           detector for detect runs that name none (loaded at start; default: the bundled one)\n' +
    '  --lock-ms, --stalled-ms  how soon the jobs of a crashed worker are handed to another',
  async run(argv) {
    const { values: v } = parseFlags(() => parseArgs({ args: argv, options, allowPositionals: false, strict: true }));
    const worker = await createWorker({
      queue: requireFlag('queue', v.queue),
      concurrency: numberFlag('concurrency', v.concurrency, 1),
      backend: (v.backend ?? 'cpu') as ExecutionProvider,
      model: v.model,
      lockMs: numberFlag('lock-ms', v['lock-ms'], 30_000),
      stalledMs: numberFlag('stalled-ms', v['stalled-ms'], 30_000),
    });
    process.stdout.write(
      `maskbox worker ${worker.name} ready: backend ${worker.backend}, model ${worker.model}, queue ${worker.queue}, concurrency ${v.concurrency ?? 1}\n`,
    );
    let signals = 0;
    await new Promise<void>((done) => {
      const stop = (sig: string) => {
        signals++;
        if (signals === 1) {
          process.stderr.write(`maskbox worker: ${sig}: finishing the jobs in hand (send again to drop them)\n`);
          void worker.close().then(done, done);
        } else {
          void worker.close(true).then(done, done);
        }
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
    const s = worker.stats;
    process.stderr.write(
      `maskbox worker: stopped after ${s.jobs} job(s), ${s.images} image(s), ${s.failed} failure(s), ${s.combined} run(s) combined\n`,
    );
    return 0;
  },
};
