import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PreprocessSpec } from '../data/preprocess.ts';
import { csvRowScorer, fieldReader, partialScore } from './scorer.ts';
import { loadAudience, scorePool } from './batch-scoring.ts';
import { scoreOnline, type HostClient } from './online-scoring.ts';
import { pseudonym } from './pseudonym.ts';
import type { ServingModel } from './model-bundle.ts';
import { sigmoid } from '../protocol/training/chebyshev-link.ts';

const preprocess: PreprocessSpec = {
  format: 'tandem-preprocess/1',
  missingPolicy: 'mean',
  missingTokens: ['', 'NA'],
  fittedRows: 10,
  columns: [
    { name: 'age', kind: 'numeric', mean: 40, std: 10, indicator: false },
    { name: 'channel', kind: 'categorical', categories: ['app', 'web'], indicator: false },
  ],
  outputColumns: ['age', 'channel=app', 'channel=web'],
};
const params = { preprocess, weights: Float64Array.from([0.5, -1, 2]), intercept: 0.25, rowClip: null };

describe('partialScore', () => {
  it('standardises, one-hot encodes and adds the intercept first, as training does', () => {
    expect(partialScore(params, { age: '50', channel: 'web' })).toBe(0.25 + 1 * 0.5 + 0 * -1 + 1 * 2);
    expect(partialScore(params, { age: 'NA', channel: 'fax' })).toBe(0.25);
  });

  it('clips the preprocessed row to rowClip when the job clipped rows (DP)', () => {
    const clipped = partialScore({ ...params, rowClip: 1 }, { age: '70', channel: 'app' });
    const norm = Math.hypot(3, 1);
    expect(clipped).toBeCloseTo(0.25 + (3 / norm) * 0.5 + (1 / norm) * -1, 15);
  });

  it('reads CSV fields by header position, whatever the column order', () => {
    const read = fieldReader(params, ['channel', 'id', 'age']);
    expect(partialScore(params, read(['web', 'u1', '50']))).toBe(partialScore(params, { age: '50', channel: 'web' }));
  });
});

describe('scoreOnline', () => {
  const model = {
    ...params,
    outputs: 1,
    intercepts: Float64Array.of(0.25),
    scoringKey: new Uint8Array(32).fill(7),
  } as unknown as ServingModel;
  const visitor = { id: 'u1', features: { age: '50', channel: 'web' } };

  it('adds each host partial found by pseudonym, never sending the id', async () => {
    const seen: string[][] = [];
    const host: HostClient = {
      name: 'partner',
      partials: (p) => (seen.push([...p]), Promise.resolve({ ok: true, scores: [1.5] })),
    };
    const [r] = await scoreOnline(model, [host], [visitor]);
    expect(seen).toEqual([[pseudonym(model.scoringKey, 'u1')]]);
    expect(seen.flat()).not.toContain('u1');
    expect(r).toEqual({
      id: 'u1',
      logit: 2.75 + 1.5,
      probability: sigmoid(4.25),
      segment: 'positive',
      complete: true,
      hosts: { partner: 'ok' },
    });
  });

  it('falls back to the guest part and says which host failed and why', async () => {
    const slow: HostClient = { name: 'slow', partials: () => Promise.resolve({ ok: false, failure: 'timeout' }) };
    const broken: HostClient = { name: 'broken', partials: () => Promise.reject(new Error('boom')) };
    const stranger: HostClient = { name: 'stranger', partials: () => Promise.resolve({ ok: true, scores: [null] }) };
    const [r] = await scoreOnline(model, [slow, broken, stranger], [visitor], { threshold: 0.99 });
    expect(r).toMatchObject({
      logit: 2.75,
      complete: false,
      segment: 'negative',
      hosts: { slow: 'timeout', broken: 'unavailable', stranger: 'not-held' },
    });
  });
});

describe('csvRowScorer', () => {
  const numeric: PreprocessSpec = {
    format: 'tandem-preprocess/1',
    missingPolicy: 'zero',
    missingTokens: ['', 'NA', '-999'],
    fittedRows: 10,
    columns: [
      { name: 'a', kind: 'numeric', mean: 0.3, std: 0.7, indicator: false },
      { name: 'b', kind: 'numeric', mean: -1.1, std: 3.3, indicator: false },
    ],
    outputColumns: ['a', 'b'],
  };
  const model = {
    preprocess: numeric,
    weights: Float64Array.from([0.1234567, -9.87654321]),
    intercept: 0.333,
    rowClip: null,
  };

  it('scores all-numeric rows to the same bits as transformRow + dot, missing and odd cells included', () => {
    const score = csvRowScorer(model, ['b', 'id', 'a'], 'pool.csv');
    const cells = ['0.1', '-2.5e3', '1e-7', 'NA', '', '-999', ' 4 ', '0', '-0', '123456.789'];
    for (const a of cells) {
      for (const b of cells) expect(score([b, 'u', a], 2)).toBe(partialScore(model, { a, b }));
    }
    expect(() => score(['x', 'u', '1'], 7)).toThrow(/pool\.csv, line 7/);
  });
});

describe('scorePool', () => {
  it('streams a pool file into a ranked audience and reads it back for membership', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-pool-'));
    try {
      const pool = join(dir, 'pool.csv');
      await writeFile(pool, 'id,age,channel\na,30,app\nb,60,web\nc,45,NA\n');
      const out = join(dir, 'audience.csv');
      const result = await scorePool({ model: params, poolFile: pool, outFile: out, top: 2 });
      expect(result).toMatchObject({ rows: 3, written: 2 });
      const lines = (await readFile(out, 'utf8')).trim().split('\n');
      expect(lines).toEqual([
        'rank,id,score',
        `1,b,${partialScore(params, { age: '60', channel: 'web' })}`,
        `2,c,${partialScore(params, { age: '45', channel: 'NA' })}`,
      ]);
      const audience = await loadAudience(out);
      expect(audience.get('b')).toEqual({ rank: 1, score: 3.25 });
      expect(audience.has('a')).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the file and the column when the pool lacks a model column', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-pool-'));
    try {
      const pool = join(dir, 'pool.csv');
      await writeFile(pool, 'id,age\na,30\n');
      await expect(scorePool({ model: params, poolFile: pool, outFile: join(dir, 'o.csv') })).rejects.toThrow(
        /pool\.csv, column "channel": the model needs 1 column\(s\) the pool file lacks/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
