/**
 * Stages limit and account: budgets (USD per user and per org, per UTC day and month) and rate
 * limits (requests and tokens per user per minute), checked before a request goes upstream and
 * charged from its final usage. Counters live in the store, so every gateway on one PostgreSQL
 * sees the same figures; a request is refused when the spend so far has reached a limit, so
 * concurrent requests can overshoot a budget by at most what is already in flight. No lock is held
 * across the upstream call.
 */
import type { OrgConfig, SluiceConfig } from '../control/config.js';
import { costOf, defaultPrices, priceOf, type Price, type TokenUsage } from '../control/prices.js';
import type { CounterKey, Store } from '../store/types.js';
import { errors } from './errors.js';

export interface Periods {
  minute: string;
  day: string;
  month: string;
  /** When each period ends. */
  minuteEnds: Date;
  dayEnds: Date;
  monthEnds: Date;
}

/** The UTC minute, day and month `at` falls in, as counter period keys. */
export function periodsOf(at: Date): Periods {
  const iso = at.toISOString();
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  const d = at.getUTCDate();
  return {
    minute: `minute:${iso.slice(0, 16)}`,
    day: `day:${iso.slice(0, 10)}`,
    month: `month:${iso.slice(0, 7)}`,
    minuteEnds: new Date(Date.UTC(y, m, d, at.getUTCHours(), at.getUTCMinutes() + 1)),
    dayEnds: new Date(Date.UTC(y, m, d + 1)),
    monthEnds: new Date(Date.UTC(y, m + 1, 1)),
  };
}

/** Tokens that count against tokensPerMinute: input, cache writes and output (cache reads are not). */
export function limitedTokens(u: TokenUsage): number {
  return u.inputTokens + u.cacheCreationInputTokens + u.outputTokens;
}

/** The org has a spend limit set (and so every model it uses needs a price). */
function hasBudgets(org: OrgConfig): boolean {
  const { perUser, org: whole } = org.budgets;
  return Boolean(perUser?.daily ?? perUser?.monthly ?? whole?.daily ?? whole?.monthly);
}

/** The org has any limit: only then are counters read and written. */
function hasLimits(org: OrgConfig): boolean {
  return hasBudgets(org) || org.rateLimits.perUser !== undefined;
}

export class Limits {
  private readonly prices: Record<string, Price>;

  constructor(
    private readonly store: Store,
    config: SluiceConfig,
  ) {
    this.prices = { ...defaultPrices, ...config.prices };
  }

  /** The price a request for `model` is charged at in `org`, or undefined (unpriced). */
  priceFor(model: string | null, org: OrgConfig): Price | undefined {
    const listed = model ? priceOf(model, this.prices) : undefined;
    return listed ?? (org.unpricedModel === 'refuse' ? undefined : org.unpricedModel);
  }

  /** Stage: limit. Throws the Anthropic-shaped refusal for the first limit reached. */
  async check(orgName: string, org: OrgConfig, user: string, model: string | null, at: Date): Promise<void> {
    const { budgets } = org;
    const perUser = org.rateLimits.perUser;
    if (hasBudgets(org) && !this.priceFor(model, org)) throw errors.unpricedModel(orgName, model ?? '(none)');
    if (!hasLimits(org)) return;
    const p = periodsOf(at);
    const keys: CounterKey[] = [];
    if (budgets.perUser?.daily) keys.push({ user, period: p.day });
    if (budgets.perUser?.monthly) keys.push({ user, period: p.month });
    if (budgets.org?.daily) keys.push({ user: '', period: p.day });
    if (budgets.org?.monthly) keys.push({ user: '', period: p.month });
    if (perUser?.tokensPerMinute) keys.push({ user, period: p.minute });
    const rpm = perUser?.requestsPerMinute;
    // One round trip: the counters the limits read, and this request counted against rpm.
    const { counters, requests } = await this.store.checkCounters(
      orgName,
      keys,
      rpm !== undefined ? { user, period: p.minute } : undefined,
    );
    const spent = (u: string, period: string) =>
      counters.find((c) => c.user === u && c.period === period) ?? { costUsd: 0, tokens: 0 };
    const budget = (
      who: string,
      scope: 'perUser' | 'org',
      span: 'daily' | 'monthly',
      u: string,
      period: string,
      ends: Date,
    ) => {
      const limit = budgets[scope]?.[span];
      if (limit === undefined) return;
      const used = spent(u, period).costUsd;
      if (used >= limit)
        throw errors.budgetExceeded({ org: orgName, who, scope, span, limit, used, resetsAt: ends, at });
    };
    budget(user, 'perUser', 'daily', user, p.day, p.dayEnds);
    budget(user, 'perUser', 'monthly', user, p.month, p.monthEnds);
    budget(`org "${orgName}"`, 'org', 'daily', '', p.day, p.dayEnds);
    budget(`org "${orgName}"`, 'org', 'monthly', '', p.month, p.monthEnds);
    const overRate = (what: string) =>
      errors.rateLimited({ org: orgName, user, what, resetsAt: p.minuteEnds, at });
    const tpm = perUser?.tokensPerMinute;
    if (tpm !== undefined && spent(user, p.minute).tokens >= tpm) throw overRate(`${tpm} tokens per minute`);
    if (rpm !== undefined && requests !== undefined && requests > rpm)
      throw overRate(`${rpm} requests per minute`);
  }

  /**
   * Stage: account. The request's cost (null when unpriced), added to the counters its org's limits
   * read; an org without limits writes none (reports sum the audit records).
   */
  async account(
    orgName: string,
    org: OrgConfig,
    user: string,
    model: string | null,
    usage: TokenUsage,
    at: Date,
  ) {
    const price = this.priceFor(model, org);
    const cost = price ? costOf(usage, price) : null;
    if (!hasLimits(org)) return cost;
    const p = periodsOf(at);
    const tokens = limitedTokens(usage);
    await this.store.addCounters(
      orgName,
      [
        { user, period: p.day },
        { user, period: p.month },
        { user: '', period: p.day },
        { user: '', period: p.month },
      ],
      { requests: 1, tokens, costUsd: cost ?? 0 },
    );
    if (org.rateLimits.perUser?.tokensPerMinute && tokens)
      await this.store.addCounters(orgName, [{ user, period: p.minute }], {
        requests: 0,
        tokens,
        costUsd: 0,
      });
    return cost;
  }
}
