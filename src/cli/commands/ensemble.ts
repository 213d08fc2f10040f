/** `maskbox ensemble`: hard voting (per-pixel majority) across several submission CSVs. */
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../../errors.js';
import { hardVoteCsv } from '../../model/ensemble.js';
import { numberFlag, parseFlags, printJson, printTable, requireFlag, type Command } from '../command.js';

const options = {
  out: { type: 'string' },
  height: { type: 'string' },
  width: { type: 'string' },
  'min-votes': { type: 'string' },
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
    '  Computed on the RLE runs; --height/--width check that every run lies inside the image.',
  async run(argv) {
    const { values: v, positionals } = parseFlags(() =>
      parseArgs({ args: argv, options, allowPositionals: true, strict: true }),
    );
    if (positionals.length < 2)
      throw new InvalidArgumentError('inputs', `ensemble needs at least 2 submission CSVs, got ${positionals.length}`);
    const out = requireFlag('out', v.out);
    if (positionals.includes(out)) throw new InvalidArgumentError('out', `--out ${out} is also an input`);
    const t0 = performance.now();
    const { rows } = await hardVoteCsv(positionals, out, {
      height: numberFlag('height', v.height, 2048),
      width: numberFlag('width', v.width, 2048),
      minVotes: v['min-votes'] === undefined ? undefined : numberFlag('min-votes', v['min-votes']),
    });
    const minVotes = v['min-votes'] === undefined ? Math.floor(positionals.length / 2) + 1 : Number(v['min-votes']);
    const seconds = (performance.now() - t0) / 1000;
    if (v.json) printJson({ inputs: positionals, out, rows, minVotes, seconds });
    else
      printTable(
        ['', 'value'],
        [
          ['inputs', positionals.length],
          ['min votes', minVotes],
          ['rows', rows],
          ['out', out],
          ['seconds', seconds],
        ],
      );
    return 0;
  },
};
