/**
 * The retail example as a federation: which dataset each party declares in
 * its node config, and the two jobs of the retail story (lookalike seed
 * expansion and cold start). `tandem demo` uses these; a user can copy them.
 */
import { join } from 'node:path';
import type { RetailManifest } from './generate.ts';

/** The party that holds the labels (the brand) and the one that holds the pool (the partner). */
export const BRAND = 'brand';
export const PARTNER = 'partner';

/** `datasets:` for each party's node config, over the files in `dataDir`. */
export function retailDatasets(
  dataDir: string,
  manifest: RetailManifest,
): { readonly brand: Record<string, unknown>; readonly partner: Record<string, unknown> } {
  return {
    brand: {
      // The seed list: ids only, the brand shares no features in a lookalike job.
      seeds: { file: join(dataDir, manifest.files.seeds), id: 'id', features: 'none' },
      // The CRM: RFM features and the purchase category, the cold-start label.
      members: {
        file: join(dataDir, manifest.files.brand),
        id: 'id',
        label: { column: 'category', type: 'multiclass' },
        features: manifest.columns.brand,
      },
    },
    partner: {
      pool: { file: join(dataDir, manifest.files.partner), id: 'id', features: manifest.columns.partner },
    },
  };
}

/** Expand the brand's coffee buyers into the partner's pool; the audience (top 5 %) stays at the partner. */
export function lookalikeJob(seed: number): Record<string, unknown> {
  return {
    name: 'retail-lookalike',
    kind: 'lookalike',
    parties: [
      { name: BRAND, role: 'guest', dataset: 'seeds' },
      { name: PARTNER, role: 'host', dataset: 'pool' },
    ],
    lookalike: { decoyRatio: 1, audiencePercent: 5 },
    seed,
  };
}

/** Predict a member's purchase category (candy / coffee / milk powder) from the brand's CRM and the partner's features. */
export function coldStartJob(seed: number): Record<string, unknown> {
  return {
    name: 'retail-cold-start',
    kind: 'cold-start',
    parties: [
      { name: BRAND, role: 'guest', dataset: 'members' },
      { name: PARTNER, role: 'host', dataset: 'pool' },
    ],
    validation: { fraction: 0.2, stratified: true },
    seed,
  };
}
