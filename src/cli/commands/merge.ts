/** `maskbox merge`: combine the outputs of `--shard I/N` runs into the unsplit command's file. */
import { parseArgs } from 'node:util';
import { mergeShards } from '../../distributed/merge.js';
import { shardInfoPath } from '../../distributed/shard.js';
import { OutputGuard } from '../../io/files.js';
import { checkOutputFile } from '../outputs.js';
import { parseFlags, printJson, printTable, requireFlag, type Command } from '../command.js';

const options = { out: { type: 'string' }, json: { type: 'boolean' }, overwrite: { type: 'boolean' } } as const;

/** `maskbox merge <shard outputs...> --out FILE`. */
export const mergeCommand: Command = {
  path: ['merge'],
  summary: 'Merge the outputs of --shard I/N runs (combined CSV, submission CSV, COCO JSON) into one file',
  usage:
    'maskbox merge <shard outputs...> --out file.csv|file.json [--json]\n' +
    '  Every shard of the split must be given (any order); each has a <out>.shard.json written by --shard.\n' +
    '  The result is byte for byte what the command writes without --shard. Per-image folders need no merge:\n' +
    '  point every shard at the same --out DIR. An existing --out is replaced only with --overwrite.',
  async run(argv) {
    const { values: v, positionals } = parseFlags(() =>
      parseArgs({ args: argv, options, allowPositionals: true, strict: true }),
    );
    const out = requireFlag('out', v.out);
    // No output may be an input, whatever its spelling or link; an existing file needs --overwrite.
    const guard = new OutputGuard(v.overwrite ?? false);
    await guard.addInputs(positionals.flatMap((p) => [p, shardInfoPath(p)]));
    await checkOutputFile(guard, out, 'out');
    const r = await mergeShards(positionals, out);
    if (v.json) printJson(r);
    else
      printTable(
        ['', 'value'],
        [
          ['out', r.out],
          ['kind', r.kind],
          ['shards', r.shards],
          ['inputs', r.total],
        ],
      );
    return 0;
  },
};
