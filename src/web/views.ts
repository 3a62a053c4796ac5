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
import { dayStart, nextDay, splitPeriod } from '../store/rollups.js';
import type { AuditRecord, GuardDecision, Store, UsageRow } from '../store/types.js';

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

type Decisions = Partial<Record<GuardDecision, number>>;

const bump = (d: Decisions, decision: GuardDecision, n = 1) => {
  d[decision] = (d[decision] ?? 0) + n;
};

/**
 * Requests, tokens, spend and guard decisions over the span, from the rollups the store keeps with
 * each record: a week or month by UTC day, a day by hour (today's included).
 */
export async function overview(store: Store, org: string, span: Span, now: Date) {
  const { step, count } = SPANS[span];
  const end = Math.ceil(now.getTime() / step) * step;
  const starts = Array.from({ length: count }, (_, i) => end - (count - i) * step);
  const first = starts[0] as number;
  const buckets: Bucket[] = starts.map((t) => ({
    start: new Date(t).toISOString(),
    requests: 0,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    guard: {},
  }));
  const at = (time: string) => buckets[Math.floor((Date.parse(time) - first) / step)];
  const add = (b: Bucket | undefined, r: Omit<UsageRow, 'key' | 'unpriced'>) => {
    if (!b) return;
    b.requests += r.requests;
    b.inputTokens += r.inputTokens + r.cacheCreationInputTokens + r.cacheReadInputTokens;
    b.outputTokens += r.outputTokens;
    b.costUsd += r.costUsd;
  };
  const hourly = span === 'day';
  const rows = await store.rollups({
    org,
    ...(hourly
      ? { fromHour: iso(first).slice(0, 13), toHour: iso(end).slice(0, 13) }
      : { fromDay: iso(first).slice(0, 10), toDay: iso(end).slice(0, 10) }),
    by: [hourly ? 'hour' : 'day', 'decision'],
  });
  for (const r of rows) {
    const b = at(hourly ? `${r.hour}:00:00.000Z` : `${r.day}T00:00:00.000Z`);
    add(b, r);
    if (b && r.decision && r.decision !== 'none') bump(b.guard, r.decision, r.requests);
  }
  return { org, span, buckets, partial: false };
}

const iso = (t: number) => new Date(t).toISOString();

const total = (d: Decisions) => Object.values(d).reduce((a, n) => a + (n ?? 0), 0);

type Session = { session: string; user: string | null; decisions: Decisions };

/** Counts guard decisions into the page's tallies. */
class GuardTally {
  readonly decisions: Decisions = {};
  readonly users = new Map<string, Decisions>();
  readonly days = new Map<string, Decisions>();
  readonly sessions = new Map<string, Session>();
  readonly rules = new Map<string, { rule: string; findings: number; requests: number }>();

  /** Counts `n` decisions `d` into the tallies `at` names (a session with the user it belongs to). */
  add(
    at: { day?: string; user?: string | null; session?: { id: string | null; user: string | null } },
    d: GuardDecision,
    n: number,
  ) {
    const into = (m: Map<string, Decisions>, k: string) => {
      const v = m.get(k) ?? {};
      bump(v, d, n);
      m.set(k, v);
    };
    if (at.day !== undefined) {
      bump(this.decisions, d, n);
      into(this.days, at.day);
    }
    if (at.user !== undefined) into(this.users, at.user ?? '(none)');
    if (at.session?.id) {
      const s = this.sessions.get(at.session.id) ?? {
        session: at.session.id,
        user: at.session.user,
        decisions: {},
      };
      bump(s.decisions, d, n);
      this.sessions.set(at.session.id, s);
    }
  }

  rule(rule: string, requests: number, findings: number) {
    const row = this.rules.get(rule) ?? { rule, findings: 0, requests: 0 };
    row.requests += requests;
    row.findings += findings;
    this.rules.set(rule, row);
  }
}

/**
 * Guard decisions by rule, decision, day, user and session since `since`, and the latest flagged
 * requests: the whole days from the store's guard rollups, the first part-day from the records the
 * guard acted on (an index of their own, at most SCAN_CAP of them: `partial` when there were more).
 */
export async function guardView(store: Store, org: string, since: string) {
  const from = splitPeriod(since, undefined).whole?.from;
  const head = from ? dayStart(from) : undefined;
  const t = new GuardTally();
  if (from) {
    const q = { org, fromDay: from };
    const [days, users, sessions, rules] = await Promise.all([
      store.guardRollups({ ...q, rules: false, by: ['day', 'decision'] }),
      store.guardRollups({ ...q, rules: false, by: ['user', 'decision'] }),
      store.guardRollups({ ...q, rules: false, by: ['session', 'user', 'decision'] }),
      store.guardRollups({ ...q, rules: true, by: ['rule'] }),
    ]);
    for (const r of days) t.add({ day: r.day as string }, r.decision as GuardDecision, r.requests);
    for (const r of users) t.add({ user: r.user ?? null }, r.decision as GuardDecision, r.requests);
    for (const r of sessions)
      t.add(
        { session: { id: r.session ?? null, user: r.user ?? null } },
        r.decision as GuardDecision,
        r.requests,
      );
    for (const r of rules) t.rule(r.rule as string, r.requests, r.findings);
  }
  // The part-day before the first whole one (all of it when `since` is not a time the split reads).
  const part = await store.queryAudit({
    org,
    since,
    ...(head ? { until: head } : {}),
    guarded: true,
    limit: SCAN_CAP,
  });
  for (const r of part) {
    const d = r.guard.decision;
    t.add({ day: r.time.slice(0, 10), user: r.user, session: { id: r.sessionId, user: r.user } }, d, 1);
    for (const [rule, n] of Object.entries(r.guard.rules)) t.rule(rule, 1, n);
  }
  const flagged = (await store.queryAudit({ org, since, guarded: true, limit: 50 })).map(metadata);
  return {
    org,
    since,
    decisions: t.decisions,
    rules: [...t.rules.values()].sort((a, b) => b.requests - a.requests),
    users: [...t.users.entries()].map(([user, d]) => ({ user, decisions: d })),
    /** UTC days, newest first. */
    days: [...t.days.entries()]
      .sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0))
      .map(([day, d]) => ({ day, decisions: d })),
    /** The 50 sessions with the most guard decisions. */
    sessions: [...t.sessions.values()].sort((a, b) => total(b.decisions) - total(a.decisions)).slice(0, 50),
    flagged,
    partial: part.length >= SCAN_CAP,
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

/**
 * One page of the audit log, newest first, filtered in the store and paged by the last record's
 * (time, id). The rollups say which UTC days hold a match, so a rare filter reads only those days'
 * records, never a window of the newest ones.
 */
export async function requestsPage(store: Store, org: string, f: RequestFilter) {
  const [cursorTime, cursorId] = f.cursor ? f.cursor.split('|') : [];
  const before = cursorTime ? { time: cursorTime, id: cursorId ?? '' } : undefined;
  const match = {
    org,
    ...(f.user ? { user: f.user } : {}),
    ...(f.model ? { model: f.model } : {}),
    ...(f.status !== undefined ? { status: f.status } : {}),
    ...(f.decision ? { decision: f.decision } : {}),
  };
  const last = before?.time ?? f.until;
  const days = await store.rollups({
    ...match,
    ...(f.since ? { fromDay: f.since.slice(0, 10) } : {}),
    ...(last ? { toDay: nextDay(last) } : {}),
    by: ['day'],
  });
  const page: Metadata[] = [];
  for (const { day } of days.reverse()) {
    const from = dayStart(day as string);
    const to = dayStart(nextDay(day as string));
    const rows = await store.queryAudit({
      ...match,
      since: f.since && f.since > from ? f.since : from,
      until: f.until && f.until < to ? f.until : to,
      ...(before ? { before } : {}),
      limit: f.limit + 1 - page.length,
    });
    page.push(...rows.map(metadata));
    if (page.length > f.limit) break;
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

/** `flowsFor` answers from fixed tables but takes milliseconds a host: remembered, up to a bound. */
const HOST_FLOWS = new Map<string, ReturnType<typeof flowsFor>>();
function hostFlows(host: string, port: number): ReturnType<typeof flowsFor> {
  const key = `${host}:${port}`;
  let found = HOST_FLOWS.get(key);
  if (!found) {
    if (HOST_FLOWS.size >= 10_000) HOST_FLOWS.clear();
    found = flowsFor(host, port);
    HOST_FLOWS.set(key, found);
  }
  return found;
}

/** The hosts the org's clients reached through the egress proxy, each expected or not by its flows. */
export async function egressView(store: Store, config: SluiceConfig, org: string, since: string, now: Date) {
  // Counted by the store per target and rule, newest first: every connection, never a window of them.
  const targets = (await store.egressTargets({ org, since })).sort((a, b) =>
    a.last < b.last ? 1 : a.last > b.last ? -1 : 0,
  );
  const refused = await store.queryEgress({ org, since, decision: 'deny', limit: 100 });
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
  for (const r of targets) {
    const target = `${r.host}:${r.port}`;
    let h = hosts.get(target);
    if (!h) {
      const { flows, uses } = hostFlows(r.host, r.port);
      h = {
        target,
        allowed: 0,
        denied: 0,
        rules: [],
        last: r.last,
        flows,
        uses,
        expected: flows.some((f) => enabled.has(f)),
      };
      hosts.set(target, h);
    }
    if (r.decision === 'allow') h.allowed += r.connections;
    else h.denied += r.connections;
    if (!h.rules.includes(r.rule)) h.rules.push(r.rule);
    if (r.last > h.last) h.last = r.last;
  }
  return {
    org,
    since,
    hosts: [...hosts.values()].sort(
      (a, b) => Number(a.expected) - Number(b.expected) || b.denied - a.denied || b.allowed - a.allowed,
    ),
    refused,
    partial: false,
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
  // Every configured limit of everyone who spent this month (the org always), with what was spent
  // in its period: a day with nothing spent yet shows its daily limit whole, not no line.
  const lines = async (limits: { daily?: number; monthly?: number } | undefined, by: 'org' | 'user') => {
    const out = new Map<string, BudgetLine[]>();
    const configured = (['daily', 'monthly'] as const).filter((span) => limits?.[span] !== undefined);
    if (!limits || !configured.length) return out;
    const month = await spent('monthly', by);
    const day = limits.daily === undefined ? new Map<string, number>() : await spent('daily', by);
    const keys = by === 'org' ? new Set([org, ...month.keys()]) : new Set(month.keys());
    const used = { daily: day, monthly: month };
    for (const key of keys)
      out.set(
        key,
        configured.map((span) => {
          const limitUsd = limits[span] as number;
          const usedUsd = used[span].get(key) ?? 0;
          return {
            span,
            limitUsd,
            usedUsd,
            leftUsd: Math.max(0, limitUsd - usedUsd),
            resets: spans[span].ends.toISOString(),
          };
        }),
      );
    return out;
  };
  const orgLines = await lines(budgets.org, 'org');
  const userLines = await lines(budgets.perUser, 'user');
  return {
    org,
    limits: budgets,
    orgLines: orgLines.get(org) ?? [],
    users: [...userLines.entries()]
      .map(([user, l]) => ({ user, lines: l }))
      .sort((a, b) => a.user.localeCompare(b.user)),
  };
}
