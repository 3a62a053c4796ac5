/** The storage interface every part of Sluice uses. Implementations: SQLite (embedded) and PostgreSQL. */
import type { ScimStore } from './scim.js';
import type { SignInStore } from './signin.js';
import type { TableRows } from './table-rows.js';

export type Role = 'admin' | 'auditor' | 'member';

export interface OrgRecord {
  id: string;
  /** JSON of the org's effective policy as last applied (for admin views). */
  policy?: Record<string, unknown>;
  createdAt: string;
}

export interface KeyRecord {
  id: string;
  org: string;
  user: string;
  role: Role;
  /** Hex SHA-256 of the full key; the key itself is never stored. */
  hash: string;
  /** First characters of the key, for people to recognise it (`sk-sluice-ab12…`). */
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
  /** When the key stops working on its own (short-lived keys, such as a sandbox session's); null: never. */
  expiresAt: string | null;
  /** The groups the key's user belongs to in its org (`orgs.<org>.groups`); absent: none. */
  groups?: string[];
}

/** What the guard did: nothing found, logged, redacted, blocked, failed (refused), or failed and forwarded (the org fails open). */
export type GuardDecision = 'none' | 'log' | 'redact' | 'block' | 'error' | 'fail-open';

export interface AuditRecord {
  id: string;
  /** ISO time the request arrived. */
  time: string;
  org: string | null;
  user: string | null;
  keyId: string | null;
  sessionId: string | null;
  method: string;
  path: string;
  model: string | null;
  stream: boolean;
  status: number;
  errorType: string | null;
  /** The upstream whose answer the client got (null when none answered). */
  upstream: string | null;
  /** Every upstream tried, in order, the answering one last (failover moves down the org's list). */
  upstreamsTried: string[];
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  costUsd: number | null;
  /** Set when the model had no known price: what it was charged at instead (absent: none). */
  priceNote?: string | null;
  latencyMs: number;
  overheadMs: number;
  guard: { decision: GuardDecision; rules: Record<string, number> };
  /** Request content as the org's contentLogging allows (null under zdr or `none`). */
  requestContent: string | null;
  responseContent: string | null;
  /** The groups of the key that made the request; absent: none. */
  groups?: string[];
  /**
   * When set, `requestContent` holds only what is new since the record `requestBase.id` (see
   * content.ts); records read back from a store always hold their whole content and no base.
   */
  requestBase?: ContentBase | null;
}

/** Where a record's stored request continues another's; its `requestContent` is the middle only. */
export interface ContentBase {
  /** The record whose whole content this one's begins and ends with. */
  id: string;
  /** Bytes of the base's content this one begins with. */
  head: number;
  /** Bytes of the base's content this one ends with. */
  tail: number;
}

export interface AuditQuery {
  org?: string;
  user?: string;
  model?: string;
  status?: number;
  decision?: GuardDecision;
  /** Only records the guard acted on (any decision but `none`). */
  guarded?: boolean;
  since?: string;
  until?: string;
  /** Keyset paging: only records before this one in the order (time, id) descending. */
  before?: { time: string; id: string };
  limit?: number;
}

export interface SweepResult {
  recordsDeleted: number;
  contentCleared: number;
  /** Days dropped whole (PostgreSQL's day partitions; their records are in `recordsDeleted`). */
  daysDropped?: number;
}

export interface SweepCutoffs {
  /** Records older than this go, unless flagged (the guard blocked them). */
  before: string;
  /** Content older than this is cleared from the records that stay. */
  contentBefore: string;
  /** Flagged records older than this go. */
  flaggedBefore: string;
}

/** A usage counter: `user` '' is the whole org; `period` is `minute:…`, `day:…` or `month:…` (UTC). */
export interface CounterKey {
  user: string;
  period: string;
}

export interface Counter extends CounterKey {
  requests: number;
  tokens: number;
  costUsd: number;
}

export interface UsageQuery {
  org?: string;
  user?: string;
  since?: string;
  until?: string;
  /** `hour`: the UTC hour (`2026-11-01T10`), as the first 13 characters of the records' times. */
  by: 'user' | 'model' | 'org' | 'hour';
}

/** `hour` reads the hourly rollups, which hold only org and decision (with `fromHour`/`toHour`). */
export type RollupDimension = 'day' | 'hour' | 'org' | 'user' | 'key' | 'model' | 'status' | 'decision';

/** Sums of the per-day rollups (rollups.ts), grouped `by` the dimensions named. */
export interface RollupQuery {
  org?: string;
  user?: string;
  model?: string;
  status?: number;
  decision?: GuardDecision;
  /** Only decisions other than `none`. */
  guarded?: boolean;
  /** First UTC day (`YYYY-MM-DD`), inclusive. */
  fromDay?: string;
  /** Last UTC day, exclusive. */
  toDay?: string;
  /** First UTC hour (`YYYY-MM-DDTHH`), inclusive: the hourly rollups. */
  fromHour?: string;
  /** Last UTC hour, exclusive. */
  toHour?: string;
  /** Read the hourly rollups even with no hour bound or dimension (usage by org). */
  hourly?: boolean;
  by: RollupDimension[];
}

/** Guard decisions summed (guard-rollups.ts), for records the guard acted on. */
export interface GuardRollupQuery {
  org: string;
  /** First UTC day, inclusive. */
  fromDay?: string;
  /** true: per rule (requests the rule found something in, and its findings); false: requests. */
  rules: boolean;
  by: ('day' | 'user' | 'session' | 'decision' | 'rule')[];
}

export interface GuardRollupRow {
  day?: string;
  user?: string | null;
  session?: string | null;
  decision?: GuardDecision;
  rule?: string;
  requests: number;
  findings: number;
}

/** One group of rollups: the dimensions asked for (none stands for null), then the sums. */
export interface RollupRow {
  day?: string;
  hour?: string;
  org?: string | null;
  user?: string | null;
  key?: string | null;
  model?: string | null;
  status?: number;
  decision?: GuardDecision;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  costUsd: number;
  unpriced: number;
}

export interface UsageRow {
  /** The user, model or org the row sums. */
  key: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  costUsd: number;
  /** Successful requests with no price (not in `costUsd`). */
  unpriced: number;
}

/** One telemetry value: an increment (delta) or a session's running total (cumulative). */
export interface TelemetryValue {
  sessionId: string;
  metric: string;
  day: string;
  value: number;
  cumulative: boolean;
}

export interface TelemetryRow {
  user: string;
  metric: string;
  value: number;
  sessions: number;
}

/** One connection attempt through the egress proxy. */
export interface EgressRecord {
  id: string;
  time: string;
  org: string | null;
  user: string | null;
  host: string;
  port: number;
  /** CONNECT, or the HTTP method of a plain forwarded request. */
  method: string;
  decision: 'allow' | 'deny';
  rule: string;
  bytesUp: number;
  bytesDown: number;
  durationMs: number;
  error: string | null;
}

export interface EgressQuery {
  org?: string;
  since?: string;
  decision?: 'allow' | 'deny';
  limit?: number;
}

export interface EgressTarget {
  host: string;
  port: number;
  decision: 'allow' | 'deny';
  rule: string;
  connections: number;
  /** The newest connection's time. */
  last: string;
}

/** One administrative action, chained to the one before (see control/admin-log.ts). */
export interface AdminLogEntry {
  seq: number;
  time: string;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** One async interface; both implementations pass the same suite (`store.suite.ts`). */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Creates or upgrades the schema. Safe to run on every start. */
  migrate(): Promise<void>;
  /** Resolves when the store answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;

  upsertOrg(org: OrgRecord): Promise<void>;
  getOrg(id: string): Promise<OrgRecord | undefined>;
  listOrgs(): Promise<OrgRecord[]>;

  insertKey(key: KeyRecord): Promise<void>;
  findKeyByHash(hash: string): Promise<KeyRecord | undefined>;
  listKeys(filter?: { org?: string; user?: string }): Promise<KeyRecord[]>;
  /** Marks a key revoked; resolves false when no such live key exists. */
  revokeKey(id: string, at: string): Promise<boolean>;

  insertAudit(record: AuditRecord): Promise<void>;
  /**
   * Inserts records in one transaction, skipping any whose id is already stored: the audit
   * journal replays after crashes and outages, so the same record may be offered more than once.
   */
  insertAudits(records: readonly AuditRecord[]): Promise<void>;
  /** Resolves when the store takes a write (a one-row probe table); rejects when it is read-only or gone. */
  probeWrite(at: string): Promise<void>;
  queryAudit(query: AuditQuery): Promise<AuditRecord[]>;
  /** One audit record by id (`sluice logs show`), content included as stored. */
  getAudit(id: string): Promise<AuditRecord | undefined>;
  /** Sums of the audit records by user, model, org or hour (whole days from the rollups). */
  usage(query: UsageQuery): Promise<UsageRow[]>;
  /**
   * The per-day sums kept beside the records (rollups.ts): exact for every record inserted, and
   * kept when retention deletes records.
   */
  rollups(query: RollupQuery): Promise<RollupRow[]>;
  /** Guard decisions by day, user, session, decision and rule, kept like the rollups. */
  guardRollups(query: GuardRollupQuery): Promise<GuardRollupRow[]>;
  /** Deletes an org's records (null: records of no org) past their retention and clears content past its own. */
  sweep(org: string | null, cutoffs: SweepCutoffs): Promise<SweepResult>;
  /**
   * Sweeps every org of `cutoffs` (null: records of no org). Records of an org it does not name
   * stay. PostgreSQL drops whole the days that hold only records past retention.
   */
  sweepAll(cutoffs: ReadonlyMap<string | null, SweepCutoffs>): Promise<SweepResult>;

  /** Adds to the counters at `keys`, creating them; one atomic statement each. */
  addCounters(
    org: string,
    keys: CounterKey[],
    delta: { requests: number; tokens: number; costUsd: number },
  ): Promise<void>;
  /** The counters of `org` at `keys` (missing ones are absent): for reports and tests. */
  readCounters(org: string, keys: CounterKey[]): Promise<Counter[]>;
  /**
   * Adds `delta` to one counter of `org` atomically (creating it at zero) and returns the counter
   * as it is after the addition: the limit stage's reservations and their returns.
   */
  bumpCounter(
    org: string,
    key: CounterKey,
    delta: { requests: number; tokens: number; costUsd: number },
  ): Promise<Counter>;
  /** Deletes counters of periods that ended: minute ones before `minuteBefore`, day ones before `dayBefore`. */
  sweepCounters(minuteBefore: string, dayBefore: string): Promise<void>;

  /**
   * Appends an entry after the last one, numbering and hashing it with `hash(prevHash, entry)`
   * while no other writer (on any gateway) can append.
   */
  appendAdminLog(
    entry: Omit<AdminLogEntry, 'seq' | 'prevHash' | 'hash'>,
    hash: (prev: string, entry: Omit<AdminLogEntry, 'hash' | 'prevHash'>) => string,
  ): Promise<AdminLogEntry>;
  /** Every entry, in order. */
  listAdminLog(): Promise<AdminLogEntry[]>;

  /** Adds telemetry for a user: increments add up; a cumulative value replaces a smaller one. */
  addTelemetry(org: string, user: string, values: TelemetryValue[]): Promise<void>;
  /** Telemetry summed per user and metric over days from `sinceDay` (YYYY-MM-DD). */
  telemetryUsage(query: { org?: string; sinceDay?: string }): Promise<TelemetryRow[]>;

  insertEgress(record: EgressRecord): Promise<void>;
  /** Newest first. */
  queryEgress(query: EgressQuery): Promise<EgressRecord[]>;
  /** Connections since `since` counted per host, port, decision and rule, with the last one's time. */
  egressTargets(query: { org: string; since: string }): Promise<EgressTarget[]>;

  /** Company sign-in's device grants and sessions (src/signin). */
  readonly signin: SignInStore;
  /** SCIM 2.0 provisioning's users, groups and memberships (src/signin/scim.ts). */
  readonly scim: ScimStore;

  /** Runs `fn` while no other holder of the lock `name` runs, on any gateway sharing this store. */
  exclusive<T>(name: string, fn: () => Promise<T>): Promise<T>;

  /** Raw rows of every table, for moving a store (`sluice store copy`); nothing else uses it. */
  tableRows(): TableRows;
}
