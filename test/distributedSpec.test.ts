/**
 * The detector flags of `maskbox submit detect` (no Redis needed): checked as `maskbox detect` checks
 * them, refused for baseline and segment runs, and carried by the run spec to the worker's Detector; a
 * spec written before they were forwarded still loads and means the defaults.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DETECT_DEFAULTS } from '../src/cli/detectorFlags.js';
import { InvalidArgumentError } from '../src/errors.js';
import { readImage } from '../src/io/image.js';
import { Detector } from '../src/model/detector.js';
import { ModelCache, processorFor } from '../src/distributed/processors.js';
import { detectorOptionsOf, type RunSpec } from '../src/distributed/spec.js';
import { submit } from '../src/distributed/submit.js';
import type { DetectionLike } from '../src/pipeline/detectionSinks.js';
import { cli } from './distributedHelpers.js';
import { REPO } from './helpers.js';

const FIX = join(REPO, 'test/fixtures/models');
const DYNAMIC = join(FIX, 'tiny_dynamic.onnx');
const IMAGE = join(FIX, 'wide.png');
/** No Redis listens here: every check below happens before a connection is tried. */
const NOWHERE = 'redis://127.0.0.1:1/0';

describe('submit detect: the detector flags', () => {
  const models = new ModelCache('cpu');
  afterAll(() => models.dispose());

  it('bad values are usage errors naming the flag, with the message maskbox detect gives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maskbox-submitflags-'));
    for (const bad of [
      ['--tile', '8'],
      ['--tile', 'big'],
      ['--overlap', '0.95'],
      ['--input-size', '16'],
      ['--input-scale', '0'],
      ['--input-size', '64', '--input-scale', '0.5'],
      ['--channel-stretch', '99,1'],
      ['--channel-stretch', '1'],
      ['--layout', 'yolov9'],
      ['--conf', '2'],
      ['--max-det', '0'],
      ['--batch', '0'],
    ]) {
      const flag = bad[0]!.slice(2);
      const local = await cli(['detect', IMAGE, '--model', DYNAMIC, '--out', join(dir, 'x.csv'), ...bad]);
      const dist = await cli([
        'submit',
        'detect',
        IMAGE,
        '--queue',
        NOWHERE,
        '--run',
        'r',
        '--out',
        join(dir, 'y.csv'),
        ...bad,
      ]);
      expect(dist.code, bad.join(' ')).toBe(2);
      expect(dist.stderr).toMatch(new RegExp(`--${flag}\\b|for ${flag}\\b`));
      expect(dist.stderr).toBe(local.stderr);
      expect(dist.stderr).not.toMatch(/Redis/);
    }
  });

  it('are refused for baseline and segment runs (except --input-size for segment)', async () => {
    for (const kind of ['baseline', 'segment'])
      for (const flag of [
        ['--tile', '64'],
        ['--overlap', '0.3'],
        ['--full-frame'],
        ['--flip-tta'],
        ['--input-scale', '0.5'],
        ['--channel-stretch', '1,99'],
        ['--layout', 'yolov5'],
        ...(kind === 'baseline' ? [['--input-size', '64']] : []),
      ]) {
        const r = await cli(['submit', kind, IMAGE, '--queue', NOWHERE, '--run', 'r', '--out', 'x.csv', ...flag]);
        expect(r.code, `${kind} ${flag.join(' ')}`).toBe(2);
        expect(r.stderr).toContain(`${flag[0]} does not apply to 'maskbox submit ${kind}'`);
      }
  });

  it('the submit() API checks them before it connects', async () => {
    const base = { queue: NOWHERE, run: 'r', kind: 'detect' as const, inputs: [IMAGE], out: 'x.csv' };
    for (const [detect, argument] of [
      [{ tile: 8 }, 'tile'],
      [{ tile: 64, overlap: 1 }, 'overlap'],
      [{ inputSize: 8 }, 'inputSize'],
      [{ inputSize: { scale: 9 } }, 'inputSize.scale'],
      [{ channelStretch: [5, 5] as [number, number] }, 'channelStretch'],
      [{ layout: 'yolov9' as 'yolov5' }, 'layout'],
    ] as const) {
      const err = await submit({ ...base, detect }).catch((e: unknown) => e);
      expect(err, JSON.stringify(detect)).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).argument).toBe(argument);
    }
  });

  it('a spec from before the detector flags means the defaults; a spec with them loads and runs the detector with them', async () => {
    // A detect run's spec as `submit` wrote it before the detector flags were forwarded.
    const old = JSON.parse(
      JSON.stringify({
        run: 'old',
        kind: 'detect',
        workDir: '/shared/.maskbox-run-old',
        output: { kind: 'csv-combined', path: '/shared/old.csv' },
        total: 1,
        chunk: 1,
        detect: { model: DYNAMIC, conf: 0.4, iou: 0.45, maxDetections: 1000, agnostic: false, batch: 1 },
      }),
    ) as RunSpec;
    // maskbox detect's defaults; the worker's results below equal the Detector's own defaults.
    expect(detectorOptionsOf(old.detect!)).toEqual({ loadOptions: {}, detectOptions: DETECT_DEFAULTS });
    const flagged: RunSpec = {
      ...old,
      detect: {
        ...old.detect!,
        inputSize: 64,
        channelStretch: [1, 99],
        layout: 'yolov5',
        tile: 64,
        overlap: 0.25,
        fullFrame: true,
        flipTta: true,
      },
    };
    const image = await readImage(IMAGE);
    const job = { index: 0, input: { name: 'wide.png', path: IMAGE }, image } as Parameters<
      Awaited<ReturnType<typeof processorFor>>['process']
    >[0];
    const plain = (r: DetectionLike) => ({ boxes: Array.from(r.boxes), scores: Array.from(r.scores) });
    const results: unknown[] = [];
    for (const [spec, load, run] of [
      [old, {}, {}],
      [
        flagged,
        { inputSize: 64, channelStretch: [1, 99], layout: 'yolov5' },
        { tile: 64, overlap: 0.25, fullFrame: true, flipTta: true },
      ],
    ] as const) {
      const got = await (await processorFor(spec, models)).process(job);
      results.push(plain(got as DetectionLike));
      const det = await Detector.load(DYNAMIC, load);
      try {
        expect(plain(got as DetectionLike)).toEqual(plain(await det.detect(image, run)));
      } finally {
        await det.dispose();
      }
    }
    expect(results[1]).not.toEqual(results[0]);
    // The two specs load two detectors; a third with the old spec's options reuses the first.
    expect(await models.detector(DYNAMIC, {})).toBe(await models.detector(DYNAMIC));
  });
});
