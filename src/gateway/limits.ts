/**
 * Stages limit and account: budgets (USD per user and per org, per UTC day and month) and rate
 * limits (requests and tokens per user per minute), checked before a request goes upstream and
 * charged from its final usage. Counters live in the store, so every gateway on one PostgreSQL
 * sees the same figures; no lock is held across the upstream call.
 *
 * The check stays off the store while it can (the store is a network round trip on PostgreSQL):
 * - Spend and token counters are read into a view that this gateway's own charges keep current.
 *   A view is used as it is while it is under half of its limit and at most MAX_STALE_MS old; it
 *   is re-read in the background once it is REFRESH_MS old, and read before the check (one round
 *   trip for all of a request's counters) when it is missing, older than MAX_STALE_MS, or at half
 *   its limit or more. Near a limit every check sees the shared figure; far from it, what other
 *   gateways spent in the last REFRESH_MS may not be seen yet. A refusal happens once the spend so
 *   far has reached a limit, so concurrent requests can overshoot by what is already in flight.
 * - Requests per minute are taken in leases: one atomic increment of the shared count by a slice
 *   of what is left this minute (an eighth, at least one), spent locally. Gateways together never
 *   admit more than the limit; a lease left unspent when the minute ends is capacity lost.
 * - With the store gone, a check fails closed once its views are older than MAX_STALE_MS.
 */
import type { OrgConfig, SluiceConfig } from '../control/config.js';
import { costOf, defaultPrices, priceOf, type Price, type TokenUsage } from '../control/prices.js';
import type { Counter, CounterKey, Store } from '../store/types.js';
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

/** Re-read a view in the background once it is this old. */
export const REFRESH_MS = 1_000;
/** Never decide on a view older than this: read the store first (and fail closed without it). */
export const MAX_STALE_MS = 5_000;
/** Charges are written to the store in batches this often. */
export const FLUSH_MS = 20;
/** A batch the store refused is tried again this much later. */
const RETRY_MS = 1_000;
/** At or past this fraction of its limit, a counter is read before every check (and charged at once). */
const EXACT_FROM = 0.5;
/** A rate-limit lease takes this fraction of what is left of the minute. */
const LEASE_FRACTION = 1 / 8;

type Amount = Pick<Counter, 'costUsd' | 'tokens'>;
type Delta = Pick<Counter, 'requests' | 'costUsd' | 'tokens'>;

/** A shared counter as this gateway sees it: the store's figure plus its own charges since. */
interface View {
  base: Amount;
  /** When `base` was read (the gateway's clock, ms). */
  readAt: number;
  /**
   * Everything this gateway has charged to the counter (counted at once), the part of it written
   * to the store, and what had been written when `base` was read (so `base` already holds it).
   */
  charged: Amount;
  written: Amount;
  writtenAtRead: Amount;
  /** Sequence number of the read `base` came from; an older read finishing later is ignored. */
  seq: number;
}

interface Lease {
  /** Requests this gateway may still admit this minute without asking the store. */
  left: number;
  /** The shared count after this gateway's last lease (every gateway's leases). */
  total: number;
}

const keyOf = (org: string, k: CounterKey) => `${org}\u0000${k.user}\u0000${k.period}`;

interface Limit {
  key: CounterKey;
  field: keyof Amount;
  limit: number;
  refuse: (used: number) => Error;
}

export class Limits {
  private readonly prices: Record<string, Price>;
  private readonly views = new Map<string, View>();
  private readonly leases = new Map<string, Lease>();
  private readonly refreshing = new Set<string>();
  private seq = 0;
  /** Charges not yet written, by counter; written together every FLUSH_MS (or at once near a limit). */
  private pending = new Map<string, { org: string; key: CounterKey; delta: Delta }>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly store: Store,
    config: SluiceConfig,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {
    this.prices = { ...defaultPrices, ...config.prices };
  }

  /** The price a request for `model` is charged at in `org`, or undefined (unpriced). */
  priceFor(model: string | null, org: OrgConfig): Price | undefined {
    const listed = model ? priceOf(model, this.prices) : undefined;
    return listed ?? (org.unpricedModel === 'refuse' ? undefined : org.unpricedModel);
  }

  private value(view: View, field: keyof Amount): number {
    return view.base[field] + view.charged[field] - view.writtenAtRead[field];
  }

  /** Reads `keys` (and takes a lease, if `bump`) in one round trip, and updates their views. */
  private async read(
    org: string,
    keys: CounterKey[],
    at: number,
    bump?: CounterKey & { by: number },
  ): Promise<number | undefined> {
    const seq = ++this.seq;
    const marks = keys.map((k) => {
      const v = this.views.get(keyOf(org, k));
      return v ? { ...v.written } : { costUsd: 0, tokens: 0 };
    });
    const { counters, requests } = await this.store.checkCounters(org, keys, bump);
    keys.forEach((k, i) => {
      const id = keyOf(org, k);
      const found = counters.find((c) => c.user === k.user && c.period === k.period);
      const v = this.views.get(id);
      if (v && v.seq > seq) return;
      const base = { costUsd: found?.costUsd ?? 0, tokens: found?.tokens ?? 0 };
      this.views.set(id, {
        base,
        readAt: at,
        // A new view starts with this gateway's charges still queued (the store has not seen them).
        charged: v?.charged ?? {
          costUsd: this.pending.get(id)?.delta.costUsd ?? 0,
          tokens: this.pending.get(id)?.delta.tokens ?? 0,
        },
        written: v?.written ?? { costUsd: 0, tokens: 0 },
        writtenAtRead: marks[i] as Amount,
        seq,
      });
    });
    return requests;
  }

  /** Re-reads stale views off the request's path; failures leave them to go stale (and fail closed). */
  private refreshLater(org: string, keys: CounterKey[], at: number): void {
    const due = keys.filter((k) => {
      const v = this.views.get(keyOf(org, k));
      return v && at - v.readAt >= REFRESH_MS && !this.refreshing.has(keyOf(org, k));
    });
    if (!due.length) return;
    due.forEach((k) => this.refreshing.add(keyOf(org, k)));
    this.read(org, due, at)
      .catch(() => undefined)
      .finally(() => due.forEach((k) => this.refreshing.delete(keyOf(org, k))));
  }

  /** Forgets views and leases of periods that have ended (called as periods roll over). */
  private prune(p: Periods): void {
    const current = new Set([p.minute, p.day, p.month]);
    for (const map of [this.views, this.leases] as Map<string, unknown>[])
      for (const id of map.keys()) if (!current.has(id.slice(id.lastIndexOf('\u0000') + 1))) map.delete(id);
  }

  /** The spend and token limits that apply to `user` of `org` at `at`, with their counters. */
  private limitsOf(orgName: string, org: OrgConfig, user: string, at: Date, p: Periods): Limit[] {
    const { budgets } = org;
    const limits: Limit[] = [];
    const budget = (scope: 'perUser' | 'org', span: 'daily' | 'monthly') => {
      const limit = budgets[scope]?.[span];
      if (limit === undefined) return;
      const who = scope === 'perUser' ? user : `org "${orgName}"`;
      const resetsAt = span === 'daily' ? p.dayEnds : p.monthEnds;
      limits.push({
        key: { user: scope === 'perUser' ? user : '', period: span === 'daily' ? p.day : p.month },
        field: 'costUsd',
        limit,
        refuse: (used) =>
          errors.budgetExceeded({ org: orgName, who, scope, span, limit, used, resetsAt, at }),
      });
    };
    budget('perUser', 'daily');
    budget('perUser', 'monthly');
    budget('org', 'daily');
    budget('org', 'monthly');
    const tpm = org.rateLimits.perUser?.tokensPerMinute;
    if (tpm !== undefined)
      limits.push({
        key: { user, period: p.minute },
        field: 'tokens',
        limit: tpm,
        refuse: () =>
          errors.rateLimited({
            org: orgName,
            user,
            what: `${tpm} tokens per minute`,
            resetsAt: p.minuteEnds,
            at,
          }),
      });
    return limits;
  }

  /** Stage: limit. Throws the Anthropic-shaped refusal for the first limit reached. */
  async check(orgName: string, org: OrgConfig, user: string, model: string | null, at: Date): Promise<void> {
    const perUser = org.rateLimits.perUser;
    if (hasBudgets(org) && !this.priceFor(model, org)) throw errors.unpricedModel(orgName, model ?? '(none)');
    if (!hasLimits(org)) return;
    const now = at.getTime();
    const p = periodsOf(at);
    if (this.views.size + this.leases.size > 10_000) this.prune(p);
    const limits = this.limitsOf(orgName, org, user, at, p);
    const overRate = (what: string) =>
      errors.rateLimited({ org: orgName, user, what, resetsAt: p.minuteEnds, at });
    const stale = limits.filter((l) => {
      const v = this.views.get(keyOf(orgName, l.key));
      return !v || now - v.readAt > MAX_STALE_MS || this.value(v, l.field) >= l.limit * EXACT_FROM;
    });
    const rpm = perUser?.requestsPerMinute;
    const leaseId = keyOf(orgName, { user, period: p.minute });
    const lease = rpm !== undefined ? this.leases.get(leaseId) : undefined;
    let admitted = rpm === undefined || (lease !== undefined && lease.left > 0);
    if (admitted && lease) lease.left--;
    // Leases are never handed back: once they add up to the limit, the minute is used up everywhere.
    const exhausted = !admitted && lease !== undefined && rpm !== undefined && lease.total >= rpm;
    if (stale.length || (!admitted && !exhausted)) {
      const want =
        rpm === undefined || admitted || exhausted
          ? undefined
          : Math.max(1, Math.floor((rpm - (lease?.total ?? 0)) * LEASE_FRACTION));
      const total = await this.read(
        orgName,
        stale.map((l) => l.key),
        now,
        want === undefined ? undefined : { user, period: p.minute, by: want },
      );
      if (want !== undefined && total !== undefined && rpm !== undefined) {
        const granted = Math.max(0, want - Math.max(0, total - rpm));
        // Concurrent checks may each have taken a lease: every slice goes to one pool, spent in turn.
        const held = this.leases.get(leaseId) ?? { left: 0, total: 0 };
        held.left += granted;
        held.total = Math.max(held.total, total);
        this.leases.set(leaseId, held);
        admitted = held.left > 0;
        if (admitted) held.left--;
      }
    }
    this.refreshLater(
      orgName,
      limits.map((l) => l.key),
      now,
    );
    for (const l of limits) {
      const used = this.value(this.views.get(keyOf(orgName, l.key)) as View, l.field);
      if (used >= l.limit) throw l.refuse(used);
    }
    if (!admitted) throw overRate(`${rpm} requests per minute`);
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
    const keys: CounterKey[] = [
      { user, period: p.day },
      { user, period: p.month },
      { user: '', period: p.day },
      { user: '', period: p.month },
    ];
    for (const key of keys) this.queue(orgName, key, { requests: 1, tokens, costUsd: cost ?? 0 });
    if (org.rateLimits.perUser?.tokensPerMinute && tokens)
      this.queue(orgName, { user, period: p.minute }, { requests: 0, tokens, costUsd: 0 });
    // Near a limit, other gateways must see this charge now, not a batch later.
    const near = this.limitsOf(orgName, org, user, at, p).some((l) => {
      const v = this.views.get(keyOf(orgName, l.key));
      return v !== undefined && this.value(v, l.field) >= l.limit * EXACT_FROM;
    });
    if (near) await this.flush();
    return cost;
  }

  /** Counts a charge in the counter's view at once, and queues it for the store. */
  private queue(org: string, key: CounterKey, delta: Delta): void {
    const id = keyOf(org, key);
    const v = this.views.get(id);
    if (v)
      v.charged = { costUsd: v.charged.costUsd + delta.costUsd, tokens: v.charged.tokens + delta.tokens };
    this.enqueue(id, org, key, delta, FLUSH_MS);
  }

  private enqueue(id: string, org: string, key: CounterKey, delta: Delta, inMs: number): void {
    const p = this.pending.get(id);
    if (p)
      p.delta = {
        requests: p.delta.requests + delta.requests,
        tokens: p.delta.tokens + delta.tokens,
        costUsd: p.delta.costUsd + delta.costUsd,
      };
    else this.pending.set(id, { org, key, delta });
    if (!this.closed) this.flushTimer ??= setTimeout(() => void this.flush(), inMs).unref();
  }

  /**
   * Writes every queued charge (one statement per counter). A failed write stays queued and is
   * retried with the next batch; `close()` writes what is left.
   */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = [...this.pending.entries()];
    this.pending = new Map();
    const run = this.flushing.then(async () => {
      await Promise.all(
        batch.map(async ([id, { org, key, delta }]) => {
          try {
            await this.store.addCounters(org, [key], delta);
            const v = this.views.get(id);
            if (v)
              v.written = {
                costUsd: v.written.costUsd + delta.costUsd,
                tokens: v.written.tokens + delta.tokens,
              };
          } catch (err) {
            this.onError(err as Error);
            this.enqueue(id, org, key, delta, RETRY_MS);
          }
        }),
      );
    });
    this.flushing = run;
    return run;
  }

  /** Writes the charges still queued (at shutdown); one try. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}
