/**
 * Stages limit and account: budgets (USD per user and per org, per UTC day and month) and rate
 * limits (requests and tokens per user per minute), checked before a request goes upstream and
 * charged from its final usage. Counters live in the store, so every gateway on one PostgreSQL
 * sees the same figures; no lock is held across the upstream call.
 *
 * Reservations keep the check off the store (a network round trip on PostgreSQL). For each limit a
 * gateway reserves a slice of what is left (an eighth) by adding it to the shared counter at once,
 * and admits requests locally while its reservation lasts. A counter therefore always holds every
 * gateway's spend plus what they have reserved.
 *
 * Budgets hold under concurrency: admission takes the request's worst-case cost out of the
 * reservation (`worstCost`: max_tokens at the output price, and the body's bytes / `bytesPerToken`
 * input tokens at the dearer of the input and cache-write prices), and a slice is granted only up
 * to the limit, so every request in flight is covered by what it reserved. When the request ends,
 * its real cost is charged and the rest of its reservation returns (`account`, or `release` when it
 * never reached the upstream). Spend can pass a limit only by what requests cost beyond their
 * worst case (input denser than one token per `bytesPerToken` bytes), and by reservations a gateway
 * held when it crashed, which count as spent until their period ends. Rate limits are checked
 * before and charged after: requests per minute are reserved like budgets, tokens per minute are
 * admitted while the reservation lasts and may pass the limit by what the requests in flight use.
 * A reservation unused for IDLE_MS is handed back, and so is every reservation when the gateway
 * stops. What no reservation covers is written in batches.
 */
import type { OrgConfig, SluiceConfig } from './config.js';
import { costOf, PriceBook, type Price, type PriceQuote, type TokenUsage } from './prices.js';
import type { CounterKey, Store } from '../store/types.js';
import { errors } from '../errors/catalog.js';

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

/** The org has a spend limit set, its own or a group's (and so every model it uses is charged). */
function hasBudgets(org: OrgConfig): boolean {
  const { perUser, org: whole } = org.budgets;
  return Boolean(
    perUser?.daily ??
    perUser?.monthly ??
    whole?.daily ??
    whole?.monthly ??
    Object.values(org.groups ?? {}).some(
      (g) => g.budgets.daily !== undefined || g.budgets.monthly !== undefined,
    ),
  );
}

/** The counter of a group's spend: a user name no email can be. */
export const groupCounter = (group: string): string => `group:${group}`;

/** The key's groups that have a budget in `org` (groups no longer configured have none). */
function budgetedGroups(org: OrgConfig, groups: readonly string[]): string[] {
  return groups.filter((g) => {
    const b = org.groups && Object.hasOwn(org.groups, g) ? org.groups[g]?.budgets : undefined;
    return b !== undefined && (b.daily !== undefined || b.monthly !== undefined);
  });
}

/** The org has any limit: only then are counters read and written. */
function hasLimits(org: OrgConfig): boolean {
  return hasBudgets(org) || org.rateLimits.perUser !== undefined;
}

/** A reservation unused this long is handed back to the shared counter. */
export const IDLE_MS = 2_000;
/** What reservations do not cover (counts, unlimited fields and counters) is written in batches this often. */
export const FLUSH_MS = 20;
/** A batch the store refused is tried again this much later. */
const RETRY_MS = 1_000;
/** A reservation is this fraction of what is left of the limit. */
const SLICE = 1 / 8;
/** After a limit refused, the gateway refuses locally this long before asking the store again. */
const REFUSED_MS = 1_000;

type Field = 'costUsd' | 'tokens' | 'requests';
type Delta = Record<Field, number>;
const ZERO: Delta = { requests: 0, tokens: 0, costUsd: 0 };

const keyOf = (org: string, k: CounterKey) => `${org}\u0000${k.user}\u0000${k.period}`;

interface Limit {
  key: CounterKey;
  field: Field;
  limit: number;
  refuse: (used: number, need: number) => Error;
}

/** What admission must know of a request to bound its cost. */
export interface RequestSize {
  /** Bytes of the body as forwarded. */
  inputBytes: number;
  /** The request's `max_tokens` (null: not given; only output already produced can be charged). */
  maxTokens: number | null;
}

/** A request's share of the budget reservations, returned or charged when it ends. */
export interface Admission {
  org: string;
  holds: { id: string; key: CounterKey; amount: number }[];
  done: boolean;
}

/** The most `size` can cost at `price`, USD (see the header for the bound this gives). */
export function worstCost(price: Price, size: RequestSize, bytesPerToken: number): number {
  const input = Math.ceil(size.inputBytes / bytesPerToken) * Math.max(price.input, price.cacheWrite);
  return (input + (size.maxTokens ?? 0) * price.output) / 1_000_000;
}

/** What this gateway holds of one limit's counter. */
interface Reservation {
  org: string;
  key: CounterKey;
  field: Field;
  /** Reserved in the shared counter and not yet used. */
  held: number;
  /** The counter as last seen (every gateway's spend and reservations). */
  seen: number;
  /** When the limit last refused (the gateway's clock, ms), if it did. */
  refusedAt?: number;
  /** When this reservation was last used. */
  usedAt: number;
}

export class Limits {
  /** The one price lookup admission, accounting and `sluice prices` share. */
  readonly prices: PriceBook;
  private readonly bytesPerToken: number;
  private readonly held = new Map<string, Reservation>();
  /** Parts of charges no reservation covered, not yet written; written together every FLUSH_MS. */
  private pending = new Map<string, { org: string; key: CounterKey; delta: Delta }>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly idleTimer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly store: Store,
    config: SluiceConfig,
    private readonly onError: (err: Error) => void = () => undefined,
    private readonly clock: () => number = () => Date.now(),
  ) {
    this.prices = new PriceBook(config.prices, () => new Date(this.clock()));
    this.bytesPerToken = config.budgetAdmission.bytesPerToken;
    this.idleTimer = setInterval(() => void this.handBackIdle(this.clock()), IDLE_MS).unref();
  }

  /**
   * What a request for `model` is charged at in `org`: its own price, else the org's
   * `unpricedModel` rate, else the dearest of its family (with a note). Undefined only where the
   * org chose `unpricedModel: refuse`.
   */
  priceFor(model: string | null, org: OrgConfig): PriceQuote | undefined {
    const quote = this.prices.quote(model ?? '(none)');
    if (quote.note === null) return quote;
    if (org.unpricedModel === 'refuse') return undefined;
    if (org.unpricedModel === 'dearest') return quote;
    const price: Price = org.unpricedModel;
    return { ...quote, source: 'org', entry: 'unpricedModel', price, worst: price, note: null };
  }

  /** The limits that apply to `user` of `org` at `at`, each with its counter and field. */
  private limitsOf(
    orgName: string,
    org: OrgConfig,
    user: string,
    at: Date,
    p: Periods,
    groups: readonly string[],
  ): Limit[] {
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
        refuse: (used, need) =>
          errors.budgetExceeded({ org: orgName, who, scope, span, limit, used, need, resetsAt, at }),
      });
    };
    budget('perUser', 'daily');
    budget('perUser', 'monthly');
    budget('org', 'daily');
    budget('org', 'monthly');
    for (const group of budgetedGroups(org, groups)) {
      for (const span of ['daily', 'monthly'] as const) {
        const limit = org.groups?.[group]?.budgets[span];
        if (limit === undefined) continue;
        const resetsAt = span === 'daily' ? p.dayEnds : p.monthEnds;
        limits.push({
          key: { user: groupCounter(group), period: span === 'daily' ? p.day : p.month },
          field: 'costUsd',
          limit,
          refuse: (used, need) =>
            errors.budgetExceeded({
              org: orgName,
              who: `group "${group}"`,
              scope: 'group',
              group,
              span,
              limit,
              used,
              need,
              resetsAt,
              at,
            }),
        });
      }
    }
    const rate = (field: 'tokens' | 'requests', limit: number | undefined, what: string) => {
      if (limit === undefined) return;
      limits.push({
        key: { user, period: p.minute },
        field,
        limit,
        refuse: () =>
          errors.rateLimited({ org: orgName, user, what: `${limit} ${what}`, resetsAt: p.minuteEnds, at }),
      });
    };
    rate('tokens', org.rateLimits.perUser?.tokensPerMinute, 'tokens per minute');
    rate('requests', org.rateLimits.perUser?.requestsPerMinute, 'requests per minute');
    return limits;
  }

  private id(org: string, key: CounterKey, field: Field): string {
    return `${keyOf(org, key)}\u0000${field}`;
  }

  /**
   * Makes sure this gateway holds enough of `l`'s counter for `take` (and takes it): reserves a
   * slice of what is left, or returns the refusal when the counter has no room for it. A budget's
   * slice is granted only up to its limit.
   */
  private async reserve(org: string, l: Limit, now: number, take: number): Promise<Error | undefined> {
    const id = this.id(org, l.key, l.field);
    let r = this.held.get(id);
    if (r && r.held >= Math.max(take, Number.MIN_VALUE)) {
      r.held -= take;
      r.usedAt = now;
      return undefined;
    }
    if (r?.refusedAt !== undefined && now - r.refusedAt < REFUSED_MS) return l.refuse(r.seen - r.held, take);
    const whole = l.field !== 'costUsd';
    const left = l.limit - (r?.seen ?? 0);
    const raw = Math.max(left * SLICE, l.limit / 1000, take - (r?.held ?? 0));
    const slice = whole ? Math.max(1, Math.ceil(raw)) : raw;
    const after = await this.store.bumpCounter(org, l.key, { ...ZERO, [l.field]: slice });
    r = this.held.get(id) ?? { org, key: l.key, field: l.field, held: 0, seen: 0, usedAt: now };
    this.held.set(id, r);
    r.seen = Math.max(r.seen, after[l.field]);
    r.usedAt = now;
    const before = after[l.field] - slice;
    // A budget keeps only what fits under its limit; a rate limit's slice is whole or nothing.
    const fits =
      l.field === 'costUsd' ? Math.max(0, Math.min(slice, l.limit - before)) : before >= l.limit ? 0 : slice;
    if (fits < slice) {
      r.seen -= slice - fits;
      void this.giveBack(org, l.key, l.field, slice - fits);
    }
    r.held += fits;
    if (r.held > 0 && r.held >= take) {
      delete r.refusedAt;
      r.held -= take;
      return undefined;
    }
    // Refuse here for a while; a budget's reservation that cannot cover a request goes back, so
    // that another gateway holding the rest can use it.
    r.refusedAt = now;
    const used = r.seen - r.held;
    if (l.field === 'costUsd' && r.held > 0) {
      void this.giveBack(org, l.key, l.field, r.held);
      r.seen -= r.held;
      r.held = 0;
    }
    return l.refuse(used, take);
  }

  /** Returns `amount` of a reservation to the shared counter (errors are reported, not thrown). */
  private giveBack(org: string, key: CounterKey, field: Field, amount: number): Promise<void> {
    return this.store
      .bumpCounter(org, key, { ...ZERO, [field]: -amount })
      .then(() => undefined)
      .catch((err: Error) => this.onError(err));
  }

  /** Hands back reservations unused for IDLE_MS (and all, with `all`). */
  async handBackIdle(now: number, all = false): Promise<void> {
    const returns: Promise<void>[] = [];
    for (const [id, r] of this.held) {
      if (!all && now - r.usedAt < IDLE_MS) continue;
      this.held.delete(id);
      if (r.held > 0) returns.push(this.giveBack(r.org, r.key, r.field, r.held));
    }
    await Promise.all(returns);
  }

  /** Stage: limit. Reserves the request's worst case, or throws the refusal of the first limit it would pass. */
  async check(
    orgName: string,
    org: OrgConfig,
    user: string,
    model: string | null,
    at: Date,
    size: RequestSize,
    groups: readonly string[] = [],
  ): Promise<Admission> {
    const admission: Admission = { org: orgName, holds: [], done: false };
    const price = this.priceFor(model, org);
    if (hasBudgets(org) && !price) throw errors.unpricedModel(orgName, model ?? '(none)');
    if (!hasLimits(org)) return admission;
    const now = at.getTime();
    const worst = price ? worstCost(price.worst, size, this.bytesPerToken) : 0;
    const limits = this.limitsOf(orgName, org, user, at, periodsOf(at), groups);
    const takes = limits.map((l) => (l.field === 'requests' ? 1 : l.field === 'costUsd' ? worst : 0));
    const refusals = await Promise.all(
      limits.map((l, i) => this.reserve(orgName, l, now, takes[i] as number)),
    );
    limits.forEach((l, i) => {
      if (l.field === 'costUsd' && !refusals[i])
        admission.holds.push({
          id: this.id(orgName, l.key, l.field),
          key: l.key,
          amount: takes[i] as number,
        });
    });
    const refusal = refusals.find((r) => r !== undefined);
    if (refusal) {
      this.release(admission);
      throw refusal;
    }
    return admission;
  }

  /** A request that ends without being charged (it never reached the upstream) returns what it reserved. */
  release(admission: Admission): void {
    if (admission.done) return;
    admission.done = true;
    for (const h of admission.holds) {
      const r = this.held.get(h.id);
      if (r) r.held += h.amount;
      // Handed back meanwhile: the amount is still in the shared counter; take it out.
      else this.enqueue(admission.org, h.key, { ...ZERO, costUsd: -h.amount }, FLUSH_MS);
    }
  }

  /**
   * Stage: account. The request's cost (null when unpriced), taken from the reservations of its
   * org's limits (what exceeds them written at once) and added to the other counters in a batch;
   * an org without limits writes none (reports sum the audit records).
   */
  async account(
    orgName: string,
    org: OrgConfig,
    user: string,
    model: string | null,
    usage: TokenUsage,
    at: Date,
    admission?: Admission,
    groups: readonly string[] = [],
  ) {
    // What the request reserved goes back to the reservation; its real cost is taken from it below.
    if (admission) this.release(admission);
    const price = this.priceFor(model, org);
    const cost = !price
      ? null
      : price.source === 'org'
        ? costOf(usage, price.price)
        : this.prices.cost(price.model, usage, at);
    if (!hasLimits(org)) return cost;
    const p = periodsOf(at);
    const tokens = limitedTokens(usage);
    const charges: { key: CounterKey; delta: Delta }[] = [
      { user, period: p.day },
      { user, period: p.month },
      { user: '', period: p.day },
      { user: '', period: p.month },
      ...budgetedGroups(org, groups).flatMap((g) => [
        { user: groupCounter(g), period: p.day },
        { user: groupCounter(g), period: p.month },
      ]),
    ].map((key) => ({ key, delta: { requests: 1, tokens, costUsd: cost ?? 0 } }));
    if (org.rateLimits.perUser?.tokensPerMinute && tokens)
      charges.push({ key: { user, period: p.minute }, delta: { ...ZERO, tokens } });
    const now = at.getTime();
    const excess: Promise<unknown>[] = [];
    for (const { key, delta } of charges) {
      const rest = { ...delta };
      for (const field of ['costUsd', 'tokens'] as const) {
        const r = this.held.get(this.id(orgName, key, field));
        if (!r || rest[field] <= 0) continue;
        // Already in the shared counter as part of the reservation.
        const covered = Math.min(r.held, rest[field]);
        r.held -= covered;
        r.seen += rest[field] - covered;
        r.usedAt = now;
        rest[field] -= covered;
        if (rest[field] > 0) {
          // Beyond the reservation: other gateways must see it before they reserve again. If the
          // store refuses, it joins the batch and is retried rather than lost.
          const over = { ...ZERO, [field]: rest[field] };
          excess.push(
            this.store.bumpCounter(orgName, key, over).catch((err: Error) => {
              this.onError(err);
              this.enqueue(orgName, key, over, RETRY_MS);
            }),
          );
          rest[field] = 0;
        }
      }
      if (rest.requests || rest.tokens || rest.costUsd) this.enqueue(orgName, key, rest, FLUSH_MS);
    }
    // Near a limit, what is left of a reservation may not cover another request like this one;
    // kept, it would only hold other gateways back until it idles: it goes back at once.
    for (const h of admission?.holds ?? []) {
      const r = this.held.get(h.id);
      if (!r || r.held <= 0 || r.held >= h.amount) continue;
      excess.push(this.giveBack(orgName, r.key, r.field, r.held));
      r.seen -= r.held;
      r.held = 0;
    }
    await Promise.all(excess);
    return cost;
  }

  private enqueue(org: string, key: CounterKey, delta: Delta, inMs: number): void {
    const id = keyOf(org, key);
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
   * retried later; `close()` writes what is left.
   */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    const run = this.flushing.then(async () => {
      await Promise.all(
        batch.map(async ({ org, key, delta }) => {
          try {
            await this.store.addCounters(org, [key], delta);
          } catch (err) {
            this.onError(err as Error);
            this.enqueue(org, key, delta, RETRY_MS);
          }
        }),
      );
    });
    this.flushing = run;
    return run;
  }

  /** Hands back every reservation and writes the charges still queued (at shutdown); one try. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.idleTimer);
    await Promise.all([this.handBackIdle(this.clock(), true), this.flush()]);
  }
}
