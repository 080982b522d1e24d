/**
 * The synthetic retail world behind `generate.ts`: who the people are, what
 * the partner platform sees of them and what the brand's CRM records. Pure
 * (no I/O): every draw comes from a `Random` the caller passes in, so the
 * same seed gives the same world.
 *
 * Planted structure (README.md explains it for users): each person has six
 * hidden traits. The partner's ~100 features are noisy, monotone views of
 * those traits; the brand's few CRM features see them far more dimly. The
 * purchase category and the campaign outcome are driven by the traits, so
 * partner features add real lift over the brand's own (cold start), and the
 * brand's coffee buyers are recognisable in the partner's pool (lookalike).
 */
import type { Random } from '../../protocol/random.ts';

/** The hidden traits, in order. */
export const TRAITS = ['coffee', 'parenting', 'sweets', 'brandAffinity', 'engagement', 'spending'] as const;
export const TRAIT_COUNT = TRAITS.length;
const [COFFEE, PARENTING, SWEETS, BRAND, ENGAGEMENT, SPENDING] = [0, 1, 2, 3, 4, 5] as const;

/** The brand's purchase categories (the cold-start label), in class order. */
export const CATEGORIES = ['candy', 'coffee', 'milk-powder'] as const;
export type Category = (typeof CATEGORIES)[number];

/** How a numeric partner feature turns its signal into a value. */
type NumericKind = 'count' | 'rate' | 'minutes' | 'money';

export type PartnerColumn =
  | {
      readonly name: string;
      readonly type: 'numeric';
      readonly kind: NumericKind;
      readonly trait: number | undefined;
      readonly loading: number;
      readonly missingRate: number;
    }
  | { readonly name: string; readonly type: 'categorical'; readonly values: readonly string[] };

/** Interest topics the partner tracks, and the trait each reflects (undefined: pure noise, as many real columns are). */
const TOPICS: readonly (readonly [string, number | undefined])[] = [
  ['coffee', COFFEE],
  ['tea', COFFEE],
  ['cafe', COFFEE],
  ['office', COFFEE],
  ['baby', PARENTING],
  ['dairy', PARENTING],
  ['toys', PARENTING],
  ['education', PARENTING],
  ['snacks', SWEETS],
  ['sweets', SWEETS],
  ['bakery', SWEETS],
  ['gaming', SWEETS],
  ['brand_page', BRAND],
  ['brand_live', BRAND],
  ['coupons', ENGAGEMENT],
  ['shortvideo', ENGAGEMENT],
  ['luxury', SPENDING],
  ['travel', SPENDING],
  ['finance', SPENDING],
  ['beauty', SPENDING],
  ['sports', undefined],
  ['pets', undefined],
  ['auto', undefined],
  ['music', undefined],
  ['news', undefined],
  ['home', undefined],
];
const TOPIC_KINDS: readonly (readonly [string, NumericKind])[] = [
  ['views_30d', 'count'],
  ['clicks_30d', 'count'],
  ['ctr', 'rate'],
  ['minutes_7d', 'minutes'],
];

/** Always present behaviour columns, before the topic columns. */
const GENERIC: readonly (readonly [string, NumericKind, number])[] = [
  ['sessions_7d', 'count', ENGAGEMENT],
  ['days_active_30d', 'count', ENGAGEMENT],
  ['orders_90d', 'count', SPENDING],
  ['gmv_90d', 'money', SPENDING],
  ['coupon_use_rate', 'rate', ENGAGEMENT],
  ['night_share', 'rate', SWEETS],
  ['followed_brands', 'count', BRAND],
  ['avg_order_value', 'money', SPENDING],
];

/** The categorical partner columns, always the last four. */
export const PARTNER_CATEGORICALS = {
  city_tier: ['t1', 't2', 't3', 't4', 't5'],
  device: ['ios', 'android', 'harmony', 'other'],
  age_band: ['18-24', '25-34', '35-44', '45+'],
  gender: ['f', 'm', 'u'],
} as const;
const CATEGORICAL_COUNT = Object.keys(PARTNER_CATEGORICALS).length;
/** The smallest partner table: the generic columns and the categoricals. */
export const MIN_PARTNER_FEATURES = GENERIC.length + CATEGORICAL_COUNT;

/**
 * The partner's columns for `featureCount` features: the generic ones, then
 * topic × kind columns until the count is reached, then four categoricals.
 * Each topic column's loading (how much of it is trait rather than noise)
 * is drawn from `random`, between 0.25 and 0.65: no single column is strong.
 */
export function partnerColumns(featureCount: number, random: Random): PartnerColumn[] {
  const numeric = featureCount - CATEGORICAL_COUNT;
  const topicColumns = TOPICS.length * TOPIC_KINDS.length;
  if (!Number.isInteger(featureCount) || numeric < GENERIC.length || numeric > GENERIC.length + topicColumns) {
    throw new RangeError(
      `the partner feature count must be an integer from ${MIN_PARTNER_FEATURES} to ${GENERIC.length + topicColumns + CATEGORICAL_COUNT}, got ${featureCount}`,
    );
  }
  const columns: PartnerColumn[] = GENERIC.map(([name, kind, trait]) => ({
    name,
    type: 'numeric',
    kind,
    trait,
    loading: 0.5,
    missingRate: 0,
  }));
  // Topic-major order, so a smaller table keeps every kind of a topic together and drops whole topics last-first.
  for (let k = 0; columns.length < numeric; k++) {
    const [topic, trait] = TOPICS[Math.floor(k / TOPIC_KINDS.length)] as (typeof TOPICS)[number];
    const [suffix, kind] = TOPIC_KINDS[k % TOPIC_KINDS.length] as (typeof TOPIC_KINDS)[number];
    // A click-through rate is undefined for someone shown nothing in the topic: 2 % missing.
    columns.push({
      name: `${topic}_${suffix}`,
      type: 'numeric',
      kind,
      trait,
      loading: 0.25 + 0.4 * random.nextFloat(),
      missingRate: kind === 'rate' ? 0.02 : 0,
    });
  }
  for (const [name, values] of Object.entries(PARTNER_CATEGORICALS))
    columns.push({ name, type: 'categorical', values });
  return columns;
}

/** Six standard normal traits; brand members who are not on the platform lean towards the brand. */
export function drawTraits(random: Random, out: Float32Array, offset: number, brandShift = 0): void {
  for (let t = 0; t < TRAIT_COUNT; t++) out[offset + t] = random.nextGaussian();
  out[offset + BRAND] = (out[offset + BRAND] ?? 0) + brandShift;
}

/** How strongly brand affinity drives who in the pool is a member: P(member) ∝ exp(MEMBERSHIP_TILT · brandAffinity). */
export const MEMBERSHIP_TILT = 0.8;
/** The brand-affinity shift of members outside the pool, the mean of the tilted pool members. */
export const OFF_PLATFORM_BRAND_SHIFT = MEMBERSHIP_TILT;

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** One partner row's cells (without the id), from the person's traits. */
export function partnerCells(
  columns: readonly PartnerColumn[],
  traits: Float32Array,
  offset: number,
  random: Random,
): string[] {
  const trait = (t: number): number => traits[offset + t] ?? 0;
  return columns.map((c) => {
    if (c.type === 'categorical') return categoricalCell(c.name, trait, random);
    const noise = random.nextGaussian();
    const missing = c.missingRate > 0 && random.nextFloat() < c.missingRate;
    const s = c.trait === undefined ? noise : c.loading * trait(c.trait) + Math.sqrt(1 - c.loading * c.loading) * noise;
    if (missing) return '';
    switch (c.kind) {
      case 'count':
        return String(Math.round(Math.exp(1.2 + 0.7 * s)));
      case 'rate':
        return sigmoid(-1.5 + 0.8 * s).toFixed(4);
      case 'minutes':
        return Math.exp(2 + 0.5 * s).toFixed(1);
      case 'money':
        return Math.exp(4 + 0.8 * s).toFixed(2);
    }
  });
}

/** Picks index k with probability ∝ exp(logits[k]). */
function pick(logits: readonly number[], random: Random): number {
  const top = Math.max(...logits);
  const weights = logits.map((l) => Math.exp(l - top));
  let u = random.nextFloat() * weights.reduce((a, b) => a + b, 0);
  for (let k = 0; k < weights.length; k++) {
    u -= weights[k] ?? 0;
    if (u < 0) return k;
  }
  return weights.length - 1;
}

function categoricalCell(name: string, trait: (t: number) => number, random: Random): string {
  const values = PARTNER_CATEGORICALS[name as keyof typeof PARTNER_CATEGORICALS];
  switch (name) {
    case 'city_tier':
      return (
        values[pick([0.6 * trait(SPENDING), 0.3 * trait(SPENDING) + 0.2, 0.3, 0.1, -0.3 * trait(SPENDING)], random)] ??
        ''
      );
    case 'device':
      return values[pick([0.7 * trait(SPENDING), 0.5, 0, -1], random)] ?? '';
    case 'age_band':
      return (
        values[
          pick(
            [-0.8 * trait(PARENTING) + 0.3 * trait(SWEETS), 0.6 * trait(PARENTING) + 0.3, 0.6 * trait(PARENTING), -0.2],
            random,
          )
        ] ?? ''
      );
    default:
      return values[pick([0.3 * trait(PARENTING), 0, -1.5], random)] ?? '';
  }
}

/** The brand's CRM row for a member, and what it implies. */
export type BrandRow = {
  readonly cells: readonly string[];
  readonly category: Category;
  readonly purchased: boolean;
};

/** Brand columns after the id, in file order; `category` and `purchased` are labels. */
export const BRAND_COLUMNS = [
  'recency_days',
  'frequency_12m',
  'monetary_12m',
  'tenure_days',
  'channel',
  'member_tier',
  'category',
  'purchased',
] as const;
export const BRAND_FEATURES = [
  { name: 'recency_days', type: 'numeric' },
  { name: 'frequency_12m', type: 'numeric' },
  { name: 'monetary_12m', type: 'numeric' },
  { name: 'tenure_days', type: 'numeric' },
  { name: 'channel', type: 'categorical' },
  { name: 'member_tier', type: 'categorical' },
] as const;
const CHANNELS = ['store', 'tmall', 'jd', 'wechat'] as const;

/** A Poisson draw by inversion (means here stay below ~60). */
function poisson(mean: number, random: Random): number {
  let k = 0;
  let p = Math.exp(-mean);
  let cumulative = p;
  const u = random.nextFloat();
  while (u > cumulative && k < 1000) {
    k++;
    p *= mean / k;
    cumulative += p;
  }
  return k;
}

/**
 * A member's CRM record. The category is drawn from the traits
 * (softmax of 1.6 × coffee / parenting / sweets); the CRM columns see it
 * only through basket size, frequency and channel, so the brand alone
 * guesses it poorly. The campaign outcome `purchased` depends on brand
 * affinity, engagement and recency.
 */
export function brandRow(traits: Float32Array, offset: number, random: Random): BrandRow {
  const trait = (t: number): number => traits[offset + t] ?? 0;
  const category = CATEGORIES[
    pick([1.6 * trait(SWEETS), 1.6 * trait(COFFEE), 1.6 * trait(PARENTING)], random)
  ] as Category;
  // Milk powder is a large, regular basket; candy small and frequent; coffee in between.
  const basketShift = { candy: -0.35, coffee: 0, 'milk-powder': 0.45 }[category];
  const frequencyShift = { candy: 0.25, coffee: 0.1, 'milk-powder': 0 }[category];
  const frequency = 1 + poisson(Math.exp(0.9 + 0.35 * trait(BRAND) + 0.2 * trait(ENGAGEMENT) + frequencyShift), random);
  const basket = Math.exp(3.6 + basketShift + 0.3 * trait(SPENDING) + 0.35 * random.nextGaussian());
  const monetary = frequency * basket;
  const recencyScore = -0.6 * trait(BRAND) - 0.3 * trait(ENGAGEMENT) + 0.75 * random.nextGaussian();
  const recency = Math.max(1, Math.round(365 * sigmoid(recencyScore - 0.8)));
  const tenure = 30 + Math.floor(random.nextFloat() * 1800 * sigmoid(0.5 * trait(BRAND) + 0.5));
  const channelShift = category === 'milk-powder' ? 0.6 : 0;
  const channel = CHANNELS[
    pick([0.3, 0.2 * trait(SPENDING), 0, 0.4 * trait(ENGAGEMENT) + channelShift], random)
  ] as string;
  const tier = monetary > 400 ? 'gold' : monetary > 150 ? 'silver' : 'bronze';
  const purchased =
    random.nextFloat() <
    sigmoid(-1.2 + 0.5 * trait(BRAND) + 0.9 * trait(ENGAGEMENT) + 0.6 * trait(COFFEE) - 0.003 * (recency - 60));
  const cells = [
    String(recency),
    String(frequency),
    monetary.toFixed(2),
    String(tenure),
    channel,
    tier,
    category,
    purchased ? '1' : '0',
  ];
  return { cells, category, purchased };
}

/** The seed rule: members who bought the brand's coffee in the last campaign. */
export function isSeed(row: BrandRow): boolean {
  return row.category === 'coffee' && row.purchased;
}
