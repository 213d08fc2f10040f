/** `maskbox ensemble`: hard voting (per-pixel majority) across several submission CSVs. */
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../../errors.js';
import { checkRegularFile, OutputGuard, withAtomicPath } from '../../io/files.js';
import { hardVoteCsv } from '../../model/ensemble.js';
import { intFlag, parseFlags, printJson, printTable, requireFlag, type Command } from '../command.js';
import { checkOutputFile } from '../outputs.js';

const options = {
  out: { type: 'string' },
  height: { type: 'string' },
  width: { type: 'string' },
  'min-votes': { type: 'string' },
  overwrite: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** `maskbox ensemble a.csv b.csv c.csv --out voted.csv [--height 2048 --width 2048] [--min-votes K]`. */
export const ensembleCommand: Command = {
  path: ['ensemble'],
  summary: 'Hard-vote several submission CSVs (image_name,class,rle) into one',
  usage:
    'maskbox ensemble a.csv b.csv [c.csv ...] --out voted.csv [--height 2048 --width 2048] [--min-votes K] [--json]\n' +
    '  A pixel is kept when at least K inputs have it (default a strict majority, floor(N/2) + 1).\n' +
    '  Rows are matched by (image_name, class) in any order; a row missing from one input is an error.\n' +
    '  Computed on the RLE runs; --height/--width check that every run lies inside the image.\n' +
    '  --out must not be an input (compared as files, whatever the spelling or link); an existing --out is\n' +
    '  replaced only with --overwrite, and only once the vote is complete (written to a temporary file first).',
  async run(argv) {
    const { values: v, positionals } = parseFlags(() =>
      parseArgs({ args: argv, options, allowPositionals: true, strict: true }),
    );
    if (positionals.length < 2)
      throw new InvalidArgumentError('inputs', `ensemble needs at least 2 submission CSVs, got ${positionals.length}`);
    const out = requireFlag('out', v.out);
    const height = intFlag('height', v.height, 2048, 1, 1 << 20);
    const width = intFlag('width', v.width, 2048, 1, 1 << 20);
    const minVotes =
      v['min-votes'] === undefined
        ? Math.floor(positionals.length / 2) + 1
        : intFlag('min-votes', v['min-votes'], undefined, 1, positionals.length);
    for (const p of positionals) await checkRegularFile(p, { argument: 'inputs', maxBytes: Number.MAX_SAFE_INTEGER });
    const guard = new OutputGuard(v.overwrite ?? false);
    await guard.addInputs(positionals);
    await checkOutputFile(guard, out, 'out');
    const t0 = performance.now();
    const { rows } = await withAtomicPath(out, (tmp) =>
      hardVoteCsv(positionals, tmp, { height, width, minVotes: v['min-votes'] === undefined ? undefined : minVotes }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const backend = 'js'; // hard voting on RLE runs has one implementation, in TypeScript
    if (v.json) printJson({ inputs: positionals, out, rows, minVotes, seconds, backend });
    else
      printTable(
        ['', 'value'],
        [
          ['inputs', positionals.length],
          ['min votes', minVotes],
          ['rows', rows],
          ['out', out],
          ['seconds', seconds],
          ['backend', backend],
        ],
      );
    return 0;
  },
};
