/**
 * Alerts (`alerts:` in sluice.yaml): budget thresholds and guard blocks posted to webhooks, in a
 * Slack-compatible body or a generic JSON one, retried with backoff. Nothing here runs on the
 * request path: the gateway hands over a finished request and returns.
 *
 * Each budget threshold is sent once per budget period, however many gateways share the store: the
 * first gateway to claim it (an atomic counter in the store, keyed by threshold, scope and period)
 * sends it. Spend is read from the audit records once the records of charged requests are in the
 * store (`recorded`, called after each write of them). No prompt or answer content is ever in an
 * alert: org, user, figures, rule ids and the request id only.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { request } from 'undici';
import type { AuditRecord, Store } from '../store/types.js';
import type { WebhookPost } from './admin-log-publish.js';
import type { AlertConfig, OrgConfig, SluiceConfig } from './config.js';
import { periodsOf } from './limits.js';
import type { FinishedRequest } from './metrics.js';

export interface AlertLogger {
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

export interface AlertDeps {
  store: Store;
  logger: AlertLogger;
  clock?: () => Date;
  post?: WebhookPost;
  /** Waits between attempts; rejects when `signal` aborts. */
  wait?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** First retry delay, ms (doubles each attempt, at most a minute). */
  backoffMs?: number;
  /** Told of each delivery's end. */
  onResult?: (result: 'sent' | 'failed') => void;
}

/** What an alert says: the event, and figures only. */
export type AlertEvent =
  | {
      event: `budget:${number}`;
      org: string;
      scope: 'perUser' | 'org';
      span: 'daily' | 'monthly';
      /** The user, for a per-user budget. */
      user: string | null;
      limitUsd: number;
      spentUsd: number;
      percent: number;
      /** The budget period (`day:2026-12-06`, `month:2026-12`). */
      period: string;
      time: string;
    }
  | {
      event: 'guard:block';
      org: string;
      user: string | null;
      requestId: string;
      /** Detection rule ids and how often each was found. */
      rules: Record<string, number>;
      time: string;
    };

/** Pending deliveries held at most; past it alerts are dropped and logged (memory stays bounded). */
const MAX_PENDING = 1_000;

const postWithUndici: WebhookPost = async (url, headers, body, signal) => {
  const res = await request(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body,
    signal,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  await res.body.dump();
  return res.statusCode;
};

/** The webhook's body: Slack's `{"text"}`, or the event itself under `sluice`. */
export function alertBody(format: AlertConfig['format'], e: AlertEvent): string {
  if (format === 'generic') return JSON.stringify({ source: 'sluice', ...e });
  const text =
    e.event === 'guard:block'
      ? `Sluice blocked a request in org "${e.org}"${e.user ? ` from ${e.user}` : ''}: ${Object.keys(e.rules).join(', ') || 'guard policy'} (request ${e.requestId}).`
      : `Sluice budget: ${e.scope === 'org' ? `org "${e.org}"` : `${e.user} in org "${e.org}"`} has spent $${e.spentUsd.toFixed(2)} of its ${e.span} $${e.limitUsd.toFixed(2)} (${Math.floor(e.percent)} %, threshold ${e.event.slice(7)} %).`;
  return JSON.stringify({ text });
}

/** The thresholds, in percent, that `alerts` ask about (ascending). */
function thresholds(alerts: readonly AlertConfig[]): number[] {
  const set = new Set<number>();
  for (const a of alerts) for (const on of a.on) if (on.startsWith('budget:')) set.add(Number(on.slice(7)));
  return [...set].sort((x, y) => x - y);
}

export class Alerts {
  private readonly clock: () => Date;
  private readonly post: WebhookPost;
  private readonly wait: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly stopping = new AbortController();
  private readonly pending = new Set<Promise<void>>();
  /** Checks running, by org and user: one at a time each. */
  private readonly checks = new Map<string, { again: boolean }>();
  private readonly running = new Set<Promise<void>>();
  /** Thresholds this process has claimed or seen claimed (saves the store a write per request). */
  private readonly claimed = new Set<string>();
  private claimedDay = '';

  constructor(private readonly deps: AlertDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.post = deps.post ?? postWithUndici;
    this.wait = deps.wait ?? ((ms, signal) => delay(ms, undefined, { signal }));
  }

  /** Takes note of a finished request (guard blocks); returns at once. */
  observe(r: FinishedRequest, config: SluiceConfig): void {
    const alerts = config.alerts;
    const { record } = r;
    if (!alerts.length || record.guard.decision !== 'block' || !record.org) return;
    this.send(alerts, 'guard:block', {
      event: 'guard:block',
      org: record.org,
      user: record.user,
      requestId: record.id,
      rules: record.guard.rules,
      time: this.clock().toISOString(),
    });
  }

  /** Audit records are now in the store: reads the spend of each charged user's budgets; returns at once. */
  recorded(records: readonly AuditRecord[], config: SluiceConfig): void {
    const alerts = config.alerts;
    if (!alerts.length || !thresholds(alerts).length || this.stopping.signal.aborted) return;
    for (const record of records) {
      const org = record.org ? config.orgs[record.org] : undefined;
      if (!record.org || !org || !(record.costUsd && record.costUsd > 0) || !hasBudget(org)) continue;
      this.schedule(record.org, org, record.user ?? '', alerts);
    }
  }

  /** One check at a time per org and user; records written meanwhile ask for one more after it. */
  private schedule(orgName: string, org: OrgConfig, user: string, alerts: readonly AlertConfig[]): void {
    const id = `${orgName}\u0000${user}`;
    const state = this.checks.get(id);
    if (state) {
      state.again = true;
      return;
    }
    const next = { again: false };
    this.checks.set(id, next);
    const run = (async () => {
      do {
        next.again = false;
        await this.check(orgName, org, user, alerts).catch((err: Error) =>
          this.deps.logger.error({ err: err.message }, 'budget alerts not checked'),
        );
      } while (next.again && !this.stopping.signal.aborted);
    })().finally(() => {
      this.checks.delete(id);
      this.running.delete(run);
    });
    this.running.add(run);
  }

  private async check(
    orgName: string,
    org: OrgConfig,
    user: string,
    alerts: readonly AlertConfig[],
  ): Promise<void> {
    const at = this.clock();
    const p = periodsOf(at);
    const levels = thresholds(alerts);
    for (const scope of ['perUser', 'org'] as const) {
      if (scope === 'perUser' && !user) continue;
      for (const span of ['daily', 'monthly'] as const) {
        const limitUsd = org.budgets[scope]?.[span];
        if (limitUsd === undefined) continue;
        const period = span === 'daily' ? p.day : p.month;
        const since =
          span === 'daily' ? `${p.day.slice(4)}T00:00:00.000Z` : `${p.month.slice(6)}-01T00:00:00.000Z`;
        const rows = await this.deps.store.usage({
          org: orgName,
          ...(scope === 'perUser' ? { user } : {}),
          since,
          by: scope === 'perUser' ? 'user' : 'org',
        });
        const spentUsd = rows.reduce((sum, r) => sum + r.costUsd, 0);
        const percent = (spentUsd / limitUsd) * 100;
        const fresh: number[] = [];
        for (const n of levels)
          if (percent >= n && (await this.claim(orgName, scope, span, user, n, period))) fresh.push(n);
        // Each webhook hears the highest of its thresholds crossed now (not 50, 80 and 100 at once).
        for (const a of alerts) {
          const mine = fresh.filter((n) => a.on.includes(`budget:${n}`));
          const n = mine.at(-1);
          if (n === undefined) continue;
          this.deliverTo(a, {
            event: `budget:${n}`,
            org: orgName,
            scope,
            span,
            user: scope === 'perUser' ? user : null,
            limitUsd,
            spentUsd,
            percent,
            period,
            time: at.toISOString(),
          });
        }
      }
    }
  }

  /** Whether this gateway is the first to reach threshold `n` of this budget in `period` (store-wide). */
  private async claim(
    org: string,
    scope: string,
    span: string,
    user: string,
    n: number,
    period: string,
  ): Promise<boolean> {
    const id = `alert|budget:${n}|${scope}|${span}|${scope === 'org' ? '' : user}`;
    const local = `${org}\u0000${id}\u0000${period}`;
    // A new day: what was claimed before is in the store, and need not stay in memory.
    const day = this.clock().toISOString().slice(0, 10);
    if (day !== this.claimedDay) {
      this.claimed.clear();
      this.claimedDay = day;
    }
    if (this.claimed.has(local)) return false;
    this.claimed.add(local);
    const after = await this.deps.store.bumpCounter(
      org,
      { user: id, period },
      { requests: 1, tokens: 0, costUsd: 0 },
    );
    return after.requests === 1;
  }

  private send(alerts: readonly AlertConfig[], event: string, e: AlertEvent): void {
    for (const a of alerts) if (a.on.includes(event)) this.deliverTo(a, e);
  }

  private deliverTo(a: AlertConfig, e: AlertEvent): void {
    if (this.pending.size >= MAX_PENDING) {
      this.deps.logger.error({ event: e.event }, 'alert dropped: too many alert webhooks pending');
      return;
    }
    const p = this.deliver(a, e.event, alertBody(a.format, e)).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async deliver(a: AlertConfig, event: string, body: string): Promise<void> {
    const host = new URL(a.url).host;
    const fail = (why: string) => {
      this.deps.onResult?.('failed');
      // The host only: a webhook URL's path is often its credential.
      this.deps.logger.error({ event, host }, `alert ${event} not delivered to ${host}: ${why}`);
    };
    for (let attempt = 1; ; attempt++) {
      let outcome: string;
      try {
        const status = await this.post(a.url, a.headers, body, this.stopping.signal);
        if (status >= 200 && status < 300) return this.deps.onResult?.('sent');
        outcome = `it answered ${status}`;
      } catch (err) {
        outcome = (err as Error).message;
      }
      if (this.stopping.signal.aborted) return fail('the gateway stopped before it answered');
      if (attempt >= a.attempts) return fail(`${outcome} (${attempt} attempts)`);
      try {
        const base = this.deps.backoffMs ?? 1_000;
        await this.wait(Math.min(60_000, base * 2 ** (attempt - 1)), this.stopping.signal);
      } catch {
        return fail('the gateway stopped before it answered');
      }
    }
  }

  /** Resolves when every check and delivery under way has ended. */
  async settled(): Promise<void> {
    while (this.running.size || this.pending.size) {
      await Promise.all([...this.running]);
      await Promise.all([...this.pending]);
    }
  }

  /** Abandons retries (each logged as not delivered) once the checks under way end. */
  async close(): Promise<void> {
    this.stopping.abort();
    await this.settled();
  }
}

function hasBudget(org: OrgConfig): boolean {
  const { perUser, org: whole } = org.budgets;
  return [perUser?.daily, perUser?.monthly, whole?.daily, whole?.monthly].some((v) => v !== undefined);
}
