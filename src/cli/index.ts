/**
 * The `maskbox` command: routes `maskbox <words...> [flags]` to one Command. Each command lives in
 * ./commands/<name>.ts and is listed here explicitly.
 */
import { MaskboxError } from '../errors.js';
import { wireBackends } from '../backends/index.js';
import type { Command } from './command.js';
import { BACKEND_USAGE, takeBackendFlag } from './backend.js';
import { describeUnexpected, guardStdio } from './safety.js';
import { simulateCommand } from './commands/simulate.js';
import { doctorCommand } from './commands/doctor.js';
import { evalDiceCommand } from './commands/evalDice.js';
import { rleDecodeCommand, rleEncodeCommand } from './commands/rle.js';
import { detectCommand } from './commands/detect.js';
import { segmentCommand } from './commands/segment.js';
import { ensembleCommand } from './commands/ensemble.js';
import { ensembleBoxesCommand } from './commands/ensembleBoxes.js';
import { baselineCommand } from './commands/baseline.js';
import { evalCocoCommand } from './commands/evalCoco.js';
import { dbscanCommand } from './commands/dbscan.js';
import { submitCommand } from './commands/submit.js';
import { workerCommand } from './commands/worker.js';
import { statusCommand } from './commands/status.js';
import { mergeCommand } from './commands/merge.js';
import { serveCommand } from './commands/serve.js';

const commands: Command[] = [
  simulateCommand,
  doctorCommand,
  evalDiceCommand,
  rleEncodeCommand,
  rleDecodeCommand,
  detectCommand,
  segmentCommand,
  ensembleCommand,
  ensembleBoxesCommand,
  evalCocoCommand,
  dbscanCommand,
  baselineCommand,
  submitCommand,
  workerCommand,
  statusCommand,
  mergeCommand,
  serveCommand,
];

function usage(): string {
  const lines = commands.map((c) => `  maskbox ${c.path.join(' ').padEnd(16)} ${c.summary}`);
  return `maskbox — pre/post-processing around vision models\n\nUsage:\n${lines.join('\n')}\n\nRun 'maskbox <command> --help' for a command's flags.\n`;
}

/**
 * Run the CLI; returns the exit code. Never throws: a MaskboxError prints its message (exit 2 for a bad
 * argument, 1 otherwise), any other error one line without a stack trace (MASKBOX_DEBUG=1 shows it).
 * A closed stdout/stderr (`maskbox doctor | head -1`) ends the process quietly with status 141.
 */
export async function main(argv: string[]): Promise<number> {
  guardStdio();
  wireBackends(); // Node's backends (js, cpu, webgpu), as src/index.ts does
  // Longest matching command path wins (e.g. 'eval coco' over 'eval').
  const match = commands
    .filter((c) => c.path.every((w, i) => argv[i] === w))
    .sort((a, b) => b.path.length - a.path.length)[0];
  if (!match) {
    const help = argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help';
    (help ? process.stdout : process.stderr).write(usage());
    return help ? 0 : 2;
  }
  const rest = argv.slice(match.path.length);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${match.summary}\n\nUsage: ${match.usage}\n${BACKEND_USAGE}\n`);
    return 0;
  }
  try {
    return await match.run(takeBackendFlag(rest, process.env, match.ownsBackendFlag ?? false));
  } catch (err) {
    if (err instanceof MaskboxError) {
      process.stderr.write(`maskbox: ${err.message}\n`);
      return err.code === 'ERR_MASKBOX_INVALID_ARGUMENT' ? 2 : 1;
    }
    process.stderr.write(`maskbox: ${describeUnexpected(err)}\n`);
    return 1;
  }
}
