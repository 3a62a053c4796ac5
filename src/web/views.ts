/**
 * The console's own views of an org's store, beyond the admin API's lists: usage and guard decisions
 * over time, guard decisions by rule, the audit log with filters and keyset paging, and the org's
 * data flows as `sluice explain --config --org` gives them. Authorization is the caller's (console.ts
 * asks the admin API first); these only read. No view returns content or a secret: records are
 * metadata, guard findings are rule ids and counts.
 */
import type { SluiceConfig } from '../control/config.js';
import { routeProfile } from '../control/route-profile.js';
import { flowsFor } from '../egress/flows.js';
import { catalog, evaluate, parseProfile } from '../policy/index.js';
import type { AuditRecord, GuardDecision, Store } from '../store/types.js';

/** Records read at most for one guard or overview scan; beyond it the view says it is partial. */
export const SCAN_CAP = 20_000;

export type Span = 'day' | 'week' | 'month';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SPANS: Record<Span, { step: number; count: number }> = {
  day: { step: HOUR, count: 24 },
  week: { step: DAY, count: 7 },
  month: { step: DAY, count: 30 },
};

export interface Bucket {
  start: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Requests by guard decision (`none` left out). */
  guard: Partial<Record<GuardDecision, number>>;
}

type Metadata = Omit<AuditRecord, 'requestContent' | 'responseContent'>;

const metadata = ({ requestContent: _q, responseContent: _r, ...rec }: AuditRecord): Metadata => rec;

/** Requests, tokens, spend (summed by the store per bucket) and guard decisions over the span. */
export async function overview(store: Store, org: string, span: Span, now: Date) {
  const { step, count } = SPANS[span];
  const end = Math.ceil(now.getTime() / step) * step;
  const starts = Array.from({ length: count }, (_, i) => end - (count - i) * step);
  const buckets: Bucket[] = await Promise.all(
    starts.map(async (t) => {
      const [row] = await store.usage({
        org,
        by: 'org',
        since: new Date(t).toISOString(),
        until: new Date(t + step).toISOString(),
      });
      return {
        start: new Date(t).toISOString(),
        requests: row?.requests ?? 0,
        inputTokens:
          (row?.inputTokens ?? 0) + (row?.cacheCreationInputTokens ?? 0) + (row?.cacheReadInputTokens ?? 0),
        outputTokens: row?.outputTokens ?? 0,
        costUsd: row?.costUsd ?? 0,
        guard: {},
      };
    }),
  );
  const scan = await store.queryAudit({
    org,
    since: new Date(starts[0] as number).toISOString(),
    until: new Date(end).toISOString(),
    limit: SCAN_CAP,
  });
  for (const r of scan) {
    if (r.guard.decision === 'none') continue;
    const b = buckets[Math.floor((Date.parse(r.time) - (starts[0] as number)) / step)];
    if (b) b.guard[r.guard.decision] = (b.guard[r.guard.decision] ?? 0) + 1;
  }
  return { org, span, buckets, partial: scan.length >= SCAN_CAP };
}

const total = (d: Partial<Record<GuardDecision, number>>) =>
  Object.values(d).reduce((a, n) => a + (n ?? 0), 0);

/** Guard decisions by rule, decision, day, user and session since `since`, and the latest flagged requests. */
export async function guardView(store: Store, org: string, since: string) {
  const scan = await store.queryAudit({ org, since, limit: SCAN_CAP });
  const rules = new Map<string, { rule: string; findings: number; requests: number }>();
  const decisions: Partial<Record<GuardDecision, number>> = {};
  const users = new Map<string, Partial<Record<GuardDecision, number>>>();
  const sessions = new Map<
    string,
    { session: string; user: string | null; decisions: Partial<Record<GuardDecision, number>> }
  >();
  const days = new Map<string, Partial<Record<GuardDecision, number>>>();
  const flagged: Metadata[] = [];
  for (const r of scan) {
    const d = r.guard.decision;
    if (d === 'none') continue;
    decisions[d] = (decisions[d] ?? 0) + 1;
    const u = users.get(r.user ?? '(none)') ?? {};
    u[d] = (u[d] ?? 0) + 1;
    users.set(r.user ?? '(none)', u);
    const day = days.get(r.time.slice(0, 10)) ?? {};
    day[d] = (day[d] ?? 0) + 1;
    days.set(r.time.slice(0, 10), day);
    if (r.sessionId) {
      const sess = sessions.get(r.sessionId) ?? { session: r.sessionId, user: r.user, decisions: {} };
      sess.decisions[d] = (sess.decisions[d] ?? 0) + 1;
      sessions.set(r.sessionId, sess);
    }
    for (const [rule, n] of Object.entries(r.guard.rules)) {
      const row = rules.get(rule) ?? { rule, findings: 0, requests: 0 };
      row.findings += n;
      row.requests += 1;
      rules.set(rule, row);
    }
    if (flagged.length < 50) flagged.push(metadata(r));
  }
  return {
    org,
    since,
    decisions,
    rules: [...rules.values()].sort((a, b) => b.requests - a.requests),
    users: [...users.entries()].map(([user, d]) => ({ user, decisions: d })),
    /** UTC days, newest first. */
    days: [...days.entries()].map(([day, d]) => ({ day, decisions: d })),
    /** The 50 sessions with the most guard decisions. */
    sessions: [...sessions.values()].sort((a, b) => total(b.decisions) - total(a.decisions)).slice(0, 50),
    flagged,
    partial: scan.length >= SCAN_CAP,
  };
}

export interface RequestFilter {
  user?: string;
  model?: string;
  status?: number;
  decision?: GuardDecision;
  since?: string;
  until?: string;
  /** The last record of the previous page: `time|id`. */
  cursor?: string;
  limit: number;
}

const BATCH = 500;

/**
 * One page of the audit log, newest first. The store filters by org, user and time; model, status
 * and decision are matched here over batches; the cursor is the last record's (time, id).
 */
export async function requestsPage(store: Store, org: string, f: RequestFilter) {
  const [cursorTime, cursorId] = f.cursor ? f.cursor.split('|') : [];
  // Where the next batch starts: records at or after (time, id) were seen already.
  let pos = cursorTime ? { time: cursorTime, id: cursorId ?? '' } : undefined;
  const after = (t: string) => new Date(Date.parse(t) + 1).toISOString();
  const page: Metadata[] = [];
  for (let scanned = 0; page.length <= f.limit && scanned < SCAN_CAP;) {
    const until = pos && (!f.until || after(pos.time) < f.until) ? after(pos.time) : f.until;
    const batch = await store.queryAudit({
      org,
      ...(f.user ? { user: f.user } : {}),
      ...(f.since ? { since: f.since } : {}),
      ...(until ? { until } : {}),
      limit: BATCH,
    });
    scanned += batch.length;
    const fresh = pos
      ? batch.filter((r) => r.time < pos!.time || (r.time === pos!.time && r.id < pos!.id))
      : batch;
    for (const r of fresh) {
      if (f.model && r.model !== f.model) continue;
      if (f.status !== undefined && r.status !== f.status) continue;
      if (f.decision && r.guard.decision !== f.decision) continue;
      page.push(metadata(r));
    }
    const last = batch[batch.length - 1];
    // A short batch is the end; a full one whose records share one millisecond cannot move on by time.
    if (batch.length < BATCH || !last || fresh.length === 0) break;
    pos = { time: last.time, id: last.id };
  }
  const records = page.slice(0, f.limit);
  const tail = records[records.length - 1];
  return { records, next: page.length > f.limit && tail ? `${tail.time}|${tail.id}` : null };
}

/** The org's flows for its real route, as `sluice explain --config --org` prints them. */
export function flowsView(config: SluiceConfig, org: string, now: Date) {
  const orgConfig = config.orgs[org];
  if (!orgConfig) return undefined;
  const routed = routeProfile(config, org, orgConfig);
  const profile = parseProfile({ ...routed.profile });
  const at = profile.at ?? now.toISOString().slice(0, 10);
  const result = evaluate(profile, catalog, at);
  return {
    org,
    at,
    route: { upstreams: routed.upstreams, notes: routed.notes },
    flows: result.flows,
    disabledFeatures: result.disabledFeatures,
    warnings: result.warnings,
    assumptions: result.assumptions,
    notes: result.notes,
  };
}

/** The hosts the org's clients reached through the egress proxy, each expected or not by its flows. */
export async function egressView(store: Store, config: SluiceConfig, org: string, since: string, now: Date) {
  const records = await store.queryEgress({ org, since, limit: SCAN_CAP });
  const enabled = new Set<string>(
    (flowsView(config, org, now)?.flows ?? []).filter((f) => f.enabled).map((f) => f.id),
  );
  // The client itself and its packages are always expected; a flow's host only while the flow is on.
  enabled.add('client');
  enabled.add('packages');
  const hosts = new Map<
    string,
    {
      target: string;
      allowed: number;
      denied: number;
      rules: string[];
      last: string;
      flows: string[];
      uses: string[];
      expected: boolean;
    }
  >();
  for (const r of records) {
    const target = `${r.host}:${r.port}`;
    let h = hosts.get(target);
    if (!h) {
      const { flows, uses } = flowsFor(r.host, r.port);
      h = {
        target,
        allowed: 0,
        denied: 0,
        rules: [],
        last: r.time,
        flows,
        uses,
        expected: flows.some((f) => enabled.has(f)),
      };
      hosts.set(target, h);
    }
    if (r.decision === 'allow') h.allowed++;
    else h.denied++;
    if (!h.rules.includes(r.rule)) h.rules.push(r.rule);
    if (r.time > h.last) h.last = r.time;
  }
  return {
    org,
    since,
    hosts: [...hosts.values()].sort(
      (a, b) => Number(a.expected) - Number(b.expected) || b.denied - a.denied || b.allowed - a.allowed,
    ),
    refused: records.filter((r) => r.decision === 'deny').slice(0, 100),
    partial: records.length >= SCAN_CAP,
  };
}

export interface BudgetLine {
  span: 'daily' | 'monthly';
  limitUsd: number;
  usedUsd: number;
  leftUsd: number;
  /** When the period (a UTC day or month) ends. */
  resets: string;
}

/**
 * The org's spend limits (`orgs.<org>.budgets`) with what the audit records say is spent in the
 * current UTC day and month, for the org and for each user who spent this month. (The limit stage's
 * counters also hold reservations in flight; this is what was spent.)
 */
export async function budgetsView(store: Store, config: SluiceConfig, org: string, now: Date) {
  const budgets = config.orgs[org]?.budgets ?? {};
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const dayStart = new Date(Date.UTC(y, m, now.getUTCDate()));
  const spans = {
    daily: { since: dayStart, ends: new Date(Date.UTC(y, m, now.getUTCDate() + 1)) },
    monthly: { since: new Date(Date.UTC(y, m, 1)), ends: new Date(Date.UTC(y, m + 1, 1)) },
  } as const;
  const spent = async (span: 'daily' | 'monthly', by: 'org' | 'user') =>
    new Map(
      (await store.usage({ org, by, since: spans[span].since.toISOString() })).map((r) => [r.key, r.costUsd]),
    );
  const lines = async (limits: { daily?: number; monthly?: number } | undefined, by: 'org' | 'user') => {
    const out = new Map<string, BudgetLine[]>();
    for (const span of ['daily', 'monthly'] as const) {
      const limit = limits?.[span];
      if (limit === undefined) continue;
      for (const [key, used] of await spent(span, by)) {
        const list = out.get(key) ?? [];
        list.push({
          span,
          limitUsd: limit,
          usedUsd: used,
          leftUsd: Math.max(0, limit - used),
          resets: spans[span].ends.toISOString(),
        });
        out.set(key, list);
      }
    }
    return out;
  };
  const orgLines = await lines(budgets.org, 'org');
  const userLines = await lines(budgets.perUser, 'user');
  const fresh = (span: 'daily' | 'monthly', limit: number | undefined): BudgetLine[] =>
    limit === undefined
      ? []
      : [{ span, limitUsd: limit, usedUsd: 0, leftUsd: limit, resets: spans[span].ends.toISOString() }];
  return {
    org,
    limits: budgets,
    orgLines: orgLines.get(org) ?? [
      ...fresh('daily', budgets.org?.daily),
      ...fresh('monthly', budgets.org?.monthly),
    ],
    users: [...userLines.entries()]
      .map(([user, l]) => ({ user, lines: l }))
      .sort((a, b) => a.user.localeCompare(b.user)),
  };
}
