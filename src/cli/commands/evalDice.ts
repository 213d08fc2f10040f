/** `maskbox eval dice`: the hand-bone competition's Dice between two submission CSVs, per class and mean. */
import { diceFromCsv } from '../../ops/diceCsv.js';
import { parseArgs } from 'node:util';
import { intFlag, numberFlag, parseFlags, printJson, printTable, requireFlag, type Command } from '../command.js';

const options = {
  pred: { type: 'string' },
  truth: { type: 'string' },
  height: { type: 'string' },
  width: { type: 'string' },
  eps: { type: 'string' },
  'empty-score': { type: 'string' },
  'per-image': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export const evalDiceCommand: Command = {
  path: ['eval', 'dice'],
  summary: 'Dice between two hand-bone submission CSVs (per class, mean)',
  usage:
    'maskbox eval dice --pred PRED.csv --truth TRUTH.csv [--height 2048 --width 2048] [--eps 1e-4 | --empty-score 1]\n' +
    '    [--per-image] [--json]\n' +
    '  Rows are matched by (image_name, class) in any order; computed on the RLE runs without decoding.\n' +
    '  Default score: (2|A∩B| + 1e-4) / (|A| + |B| + 1e-4) per image per class, mean over images, then classes.\n' +
    '  --empty-score S: no smoothing, S when both masks are empty.',
  async run(argv) {
    const { values: v } = parseFlags(() => parseArgs({ args: argv, options, strict: true }));
    const pred = requireFlag('pred', v.pred);
    const truth = requireFlag('truth', v.truth);
    const r = await diceFromCsv(pred, truth, {
      height: intFlag('height', v.height, 2048, 1, 1 << 20),
      width: intFlag('width', v.width, 2048, 1, 1 << 20),
      eps: v.eps === undefined ? undefined : numberFlag('eps', v.eps),
      emptyScore: v['empty-score'] === undefined ? undefined : numberFlag('empty-score', v['empty-score']),
    });
    const perClass = r.classes.map((c, i) => ({ class: c, dice: r.perClass[i]!, images: r.imagesPerClass[i]! }));
    if (v.json) {
      printJson({
        pred,
        truth,
        mean: r.mean,
        images: r.images.length,
        perClass,
        ...(v['per-image'] ? { rows: r.rows } : {}),
        backend: r.backend,
      });
      return 0;
    }
    if (v['per-image']) {
      printTable(
        ['image_name', 'class', 'dice'],
        r.rows.map((x) => [x.image_name, x.class, x.dice]),
      );
      process.stdout.write('\n');
    }
    printTable(
      ['class', 'dice', 'images'],
      [...perClass.map((x) => [x.class, x.dice, x.images]), ['mean', r.mean, r.images.length]],
    );
    return 0;
  },
};
