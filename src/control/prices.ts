/**
 * Model prices, USD per million tokens: the maintained dataset of `@pydantic/genai-prices`
 * (Anthropic's published prices with their dates and long-context tiers), overridden by the
 * configuration's `prices:` (by model id or id prefix, the longest matching entry wins). A model
 * neither knows is charged at the dearest price of its family (`opus`, `sonnet`, `haiku`, ...; of
 * every Claude model when the id names no known family), with a note saying so: never refused.
 * One `PriceBook` serves admission (`worstCost`), accounting and `sluice prices`.
 */
import {
  calcPrice,
  findProvider,
  TieredPrices,
  type ModelPrice,
  type Provider,
} from '@pydantic/genai-prices';

export interface Price {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

/** Where a model's price comes from. */
export type PriceSource = 'config' | 'dataset' | 'family' | 'org';

/** What a request for one model is charged at, and why. */
export interface PriceQuote {
  /** The model id asked about. */
  model: string;
  source: PriceSource;
  /** The entry that matched: a `prices:` key, a dataset model id, or the family's dearest entry. */
  entry: string;
  /** The price as listed (the base rate where the dataset has long-context tiers). */
  price: Price;
  /** The dearest rate of every tier: what admission reserves against. */
  worst: Price;
  /** Set when the model has no known price: what it is charged at instead. */
  note: string | null;
}

/** Token counts of one request, as the audit record keeps them. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
}

/** What `usage` costs at the flat `price`, USD. */
export function costOf(usage: TokenUsage, price: Price): number {
  return (
    (usage.inputTokens * price.input +
      usage.outputTokens * price.output +
      usage.cacheCreationInputTokens * price.cacheWrite +
      usage.cacheReadInputTokens * price.cacheRead) /
    1_000_000
  );
}

/** The price of `model` in `table` (the exact id, else the longest id it starts with), or undefined. */
export function priceOf(
  model: string,
  table: Record<string, Price>,
): { entry: string; price: Price } | undefined {
  const exact = table[model];
  if (exact) return { entry: model, price: exact };
  let best: string | undefined;
  for (const id of Object.keys(table))
    if (model.startsWith(id) && (best === undefined || id.length > best.length)) best = id;
  return best === undefined ? undefined : { entry: best, price: table[best] as Price };
}

/** The family a Claude model id names (`claude-opus-5-5` and `claude-3-opus` are both `opus`), or null. */
export function familyOf(model: string): string | null {
  const m = /^(?:[a-z]+\.)?claude-(?:[0-9][0-9.-]*-)?([a-z]+)/i.exec(model);
  return m?.[1] && m[1].toLowerCase() !== 'v' ? m[1].toLowerCase() : null;
}

const rate = (v: ModelPrice[string], pick: 'base' | 'max'): number => {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const t = v instanceof TieredPrices ? v : new TieredPrices(v as TieredPrices);
  return pick === 'base' ? t.base : Math.max(t.base, ...t.tiers.map((x) => x.price));
};

const toPrice = (p: ModelPrice, pick: 'base' | 'max'): Price => ({
  input: rate(p.input_mtok, pick),
  output: rate(p.output_mtok, pick),
  // A model without cache prices is taken at its input price for writes (the dearer choice).
  cacheWrite: p.cache_write_mtok === undefined ? rate(p.input_mtok, pick) : rate(p.cache_write_mtok, pick),
  cacheRead: rate(p.cache_read_mtok, pick),
});

const dearest = (prices: Price[]): Price => ({
  input: Math.max(...prices.map((p) => p.input)),
  output: Math.max(...prices.map((p) => p.output)),
  cacheWrite: Math.max(...prices.map((p) => p.cacheWrite)),
  cacheRead: Math.max(...prices.map((p) => p.cacheRead)),
});

interface Listed {
  entry: string;
  source: 'config' | 'dataset';
  price: Price;
  worst: Price;
}

/** The dataset's Anthropic provider (shipped inside the package; nothing is fetched). */
function anthropic(): Provider {
  const provider = findProvider({ providerId: 'anthropic' });
  if (!provider) throw new Error('the price dataset has no anthropic provider');
  return provider;
}

/** The dataset's price of `model` at `at` (dated prices resolved), or undefined. */
function datasetPrice(provider: Provider, model: string, at: Date): Listed | undefined {
  const calc = calcPrice({ input_tokens: 0 }, model, { provider, timestamp: at });
  if (!calc) return undefined;
  return {
    entry: calc.model.id,
    source: 'dataset',
    price: toPrice(calc.model_price, 'base'),
    worst: toPrice(calc.model_price, 'max'),
  };
}

export class PriceBook {
  private readonly provider = anthropic();
  private readonly quotes = new Map<string, PriceQuote>();
  private listing: Listed[] | undefined;

  constructor(
    private readonly overrides: Record<string, Price>,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Every priced entry: the configuration's, then the dataset's (current prices). */
  list(): Listed[] {
    if (this.listing) return this.listing;
    const at = this.clock();
    const fromConfig: Listed[] = Object.entries(this.overrides).map(([entry, price]) => ({
      entry,
      source: 'config',
      price,
      worst: price,
    }));
    const fromDataset = this.provider.models.flatMap((m) => {
      if (this.overrides[m.id]) return [];
      const listed = datasetPrice(this.provider, m.id, at);
      return listed ? [listed] : [];
    });
    this.listing = [...fromConfig, ...fromDataset];
    return this.listing;
  }

  /** What a request for `model` is charged at (cached per model; the first lookup resolves the date). */
  quote(model: string): PriceQuote {
    const cached = this.quotes.get(model);
    if (cached) return cached;
    const q = this.resolve(model);
    this.quotes.set(model, q);
    return q;
  }

  /** True when `model` has a price of its own (config or dataset). */
  knows(model: string): boolean {
    const s = this.quote(model).source;
    return s === 'config' || s === 'dataset';
  }

  /** What `usage` of `model` costs, USD: the dataset's own calculation (tiers, dates) where it prices it. */
  cost(model: string, usage: TokenUsage, at: Date): number {
    const q = this.quote(model);
    if (q.source !== 'dataset') return costOf(usage, q.price);
    const calc = calcPrice(
      {
        // The dataset counts cached tokens inside input_tokens (Anthropic's usage does not).
        input_tokens: usage.inputTokens + usage.cacheCreationInputTokens + usage.cacheReadInputTokens,
        cache_write_tokens: usage.cacheCreationInputTokens,
        cache_read_tokens: usage.cacheReadInputTokens,
        output_tokens: usage.outputTokens,
      },
      q.entry,
      { provider: this.provider, timestamp: at },
    );
    return calc ? calc.total_price : costOf(usage, q.worst);
  }

  private resolve(model: string): PriceQuote {
    const own = priceOf(model, this.overrides);
    if (own)
      return { model, source: 'config', entry: own.entry, price: own.price, worst: own.price, note: null };
    const listed = datasetPrice(this.provider, model, this.clock());
    if (listed) return { model, ...listed, note: null };
    const family = familyOf(model);
    const kin = this.list().filter((l) => family !== null && familyOf(l.entry) === family);
    const pool = kin.length > 0 ? kin : this.list().filter((l) => familyOf(l.entry) !== null);
    const price = dearest(pool.map((l) => l.worst));
    const as = kin.length > 0 ? `the dearest ${family} price` : 'the dearest Claude price';
    return {
      model,
      source: 'family',
      entry: kin.length > 0 ? `${family}*` : 'claude*',
      price,
      worst: price,
      note:
        `model "${model}" has no known price: charged at ${as} ` +
        `($${price.input} in / $${price.output} out per million tokens); add it under prices: to set its own`,
    };
  }
}

/** An org's view of prices for start-up warnings: the models it lists and its rate for unknown ones. */
interface OrgPricing {
  models?: string[] | undefined;
  unpricedModel: 'dearest' | 'refuse' | Price;
}

/** One line per model an org lists that has no known price: what it will be charged at (said at start-up). */
export function unpricedWarnings(orgs: Record<string, OrgPricing>, book: PriceBook): string[] {
  const lines: string[] = [];
  for (const [name, org] of Object.entries(orgs))
    for (const model of org.models ?? []) {
      const q = book.quote(model);
      if (q.note === null) continue;
      if (org.unpricedModel === 'refuse')
        lines.push(
          `org "${name}": model "${model}" has no known price and unpricedModel is refuse: requests for it are refused where budgets apply`,
        );
      else if (org.unpricedModel === 'dearest') lines.push(`org "${name}": ${q.note}`);
      else
        lines.push(
          `org "${name}": model "${model}" has no known price: charged at orgs.${name}.unpricedModel`,
        );
    }
  return lines;
}
