import { partitionAuditMigration } from './partitions.js';
import { GUARDED_INDEX, rollupMigration } from './rollups.js';
import { SCIM_MIGRATION } from './scim.js';
import { SIGNIN_MIGRATION } from './signin.js';

/** Versioned schema migrations, one statement list per dialect. Append only: never edit a shipped step. */

export interface Migration {
  version: number;
  description: string;
  sqlite: string[];
  postgres: string[];
}

const auditColumns = (real: string, bool: string) => `
  id TEXT PRIMARY KEY,
  time TEXT NOT NULL,
  org TEXT,
  user_email TEXT,
  key_id TEXT,
  session_id TEXT,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  model TEXT,
  stream ${bool} NOT NULL,
  status INTEGER NOT NULL,
  error_type TEXT,
  upstream TEXT,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cache_creation_input_tokens INTEGER NOT NULL,
  cache_read_input_tokens INTEGER NOT NULL,
  cost_usd ${real},
  latency_ms ${real} NOT NULL,
  overhead_ms ${real} NOT NULL,
  guard TEXT NOT NULL,
  request_content TEXT,
  response_content TEXT`;

const common = [
  `CREATE TABLE orgs (id TEXT PRIMARY KEY, policy TEXT, created_at TEXT NOT NULL)`,
  `CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    org TEXT NOT NULL,
    user_email TEXT NOT NULL,
    role TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT)`,
  `CREATE INDEX api_keys_org ON api_keys (org)`,
];

const auditIndexes = [
  `CREATE INDEX audit_org_time ON audit_records (org, time)`,
  `CREATE INDEX audit_time ON audit_records (time)`,
];

/**
 * With millions of records: one index holds every column `usage` reads, so it sums an org's period
 * without reading the table. It begins with (org, time), so it also serves an org's newest records
 * (and a member's, filtered along it) and takes audit_org_time's place: with both, SQLite's planner
 * took the narrower one for usage and read a million table rows.
 */
const millionsIndexes = [
  `CREATE INDEX audit_usage ON audit_records (org, time, user_email, model, status, input_tokens, output_tokens,
    cache_creation_input_tokens, cache_read_input_tokens, cost_usd)`,
  `DROP INDEX audit_org_time`,
];

/**
 * Every column audit_records has after migration 13, keyed by (id, time) and ordering times
 * bytewise (COLLATE "C", as SQLite does), which is the partition key's order too.
 */
const partitionedAuditColumns = `${auditColumns('DOUBLE PRECISION', 'BOOLEAN')
  .replace('id TEXT PRIMARY KEY', 'id TEXT NOT NULL')
  .replace('time TEXT NOT NULL', 'time TEXT COLLATE "C" NOT NULL')},
  flagged BOOLEAN NOT NULL DEFAULT false,
  upstreams_tried TEXT,
  groups TEXT,
  price_note TEXT,
  request_base TEXT,
  request_head INTEGER,
  request_tail INTEGER`;

/** The indexes audit_records has after migration 13. */
const auditIndexesNow = [
  `CREATE INDEX audit_time ON audit_records (time)`,
  (millionsIndexes[0] as string).replace(/\s+/g, ' '),
  `CREATE INDEX audit_request_base ON audit_records (request_base) WHERE request_base IS NOT NULL`,
  GUARDED_INDEX,
];

/** Times are ISO-8601 UTC text in both dialects, so they compare the same way everywhere. */
export const migrations: Migration[] = [
  {
    version: 1,
    description: 'orgs, api keys, audit records',
    sqlite: [...common, `CREATE TABLE audit_records (${auditColumns('REAL', 'INTEGER')})`, ...auditIndexes],
    postgres: [
      ...common,
      `CREATE TABLE audit_records (${auditColumns('DOUBLE PRECISION', 'BOOLEAN')})`,
      ...auditIndexes,
    ],
  },
  {
    version: 2,
    description: 'usage counters for budgets and rate limits; flagged audit records',
    sqlite: [
      `ALTER TABLE audit_records ADD COLUMN flagged INTEGER NOT NULL DEFAULT 0`,
      `CREATE TABLE usage_counters (
        org TEXT NOT NULL, user_email TEXT NOT NULL, period TEXT NOT NULL,
        requests INTEGER NOT NULL DEFAULT 0, tokens INTEGER NOT NULL DEFAULT 0, cost_usd REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (org, user_email, period))`,
    ],
    postgres: [
      `ALTER TABLE audit_records ADD COLUMN flagged BOOLEAN NOT NULL DEFAULT false`,
      `CREATE TABLE usage_counters (
        org TEXT NOT NULL, user_email TEXT NOT NULL, period TEXT NOT NULL,
        requests BIGINT NOT NULL DEFAULT 0, tokens BIGINT NOT NULL DEFAULT 0, cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
        PRIMARY KEY (org, user_email, period))`,
    ],
  },
  {
    version: 3,
    description: 'admin audit log, hash-chained',
    sqlite: [
      `CREATE TABLE admin_log (seq INTEGER PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        target TEXT NOT NULL, details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)`,
    ],
    postgres: [
      `CREATE TABLE admin_log (seq BIGINT PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        target TEXT NOT NULL, details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)`,
    ],
  },
  {
    version: 4,
    description: "Claude Code's own telemetry, summed per user, session, metric and day",
    sqlite: [
      `CREATE TABLE telemetry (org TEXT NOT NULL, user_email TEXT NOT NULL, session_id TEXT NOT NULL,
        metric TEXT NOT NULL, day TEXT NOT NULL, value REAL NOT NULL,
        PRIMARY KEY (org, user_email, session_id, metric, day))`,
    ],
    postgres: [
      `CREATE TABLE telemetry (org TEXT NOT NULL, user_email TEXT NOT NULL, session_id TEXT NOT NULL,
        metric TEXT NOT NULL, day TEXT NOT NULL, value DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (org, user_email, session_id, metric, day))`,
    ],
  },
  {
    version: 5,
    description: 'egress proxy connection records',
    sqlite: [
      `CREATE TABLE egress_records (id TEXT PRIMARY KEY, time TEXT NOT NULL, org TEXT, user_email TEXT,
        host TEXT NOT NULL, port INTEGER NOT NULL, method TEXT NOT NULL, decision TEXT NOT NULL, rule TEXT NOT NULL,
        bytes_up INTEGER NOT NULL, bytes_down INTEGER NOT NULL, duration_ms REAL NOT NULL, error TEXT)`,
      `CREATE INDEX egress_org_time ON egress_records (org, time)`,
    ],
    postgres: [
      `CREATE TABLE egress_records (id TEXT PRIMARY KEY, time TEXT NOT NULL, org TEXT, user_email TEXT,
        host TEXT NOT NULL, port INTEGER NOT NULL, method TEXT NOT NULL, decision TEXT NOT NULL, rule TEXT NOT NULL,
        bytes_up BIGINT NOT NULL, bytes_down BIGINT NOT NULL, duration_ms DOUBLE PRECISION NOT NULL, error TEXT)`,
      `CREATE INDEX egress_org_time ON egress_records (org, time)`,
    ],
  },
  {
    version: 6,
    description: 'a one-row table that proves the store takes writes',
    sqlite: [`CREATE TABLE sluice_probe (id INTEGER PRIMARY KEY, at TEXT NOT NULL)`],
    postgres: [`CREATE TABLE sluice_probe (id INTEGER PRIMARY KEY, at TEXT NOT NULL)`],
  },
  {
    version: 7,
    description: 'key expiry (short-lived keys)',
    sqlite: [`ALTER TABLE api_keys ADD COLUMN expires_at TEXT`],
    postgres: [`ALTER TABLE api_keys ADD COLUMN expires_at TEXT`],
  },
  {
    version: 8,
    description: 'audit records name every upstream tried (failover)',
    sqlite: [`ALTER TABLE audit_records ADD COLUMN upstreams_tried TEXT`],
    postgres: [`ALTER TABLE audit_records ADD COLUMN upstreams_tried TEXT`],
  },
  {
    version: 9,
    description: SIGNIN_MIGRATION.description,
    sqlite: SIGNIN_MIGRATION.statements,
    postgres: SIGNIN_MIGRATION.statements,
  },
  {
    version: 10,
    description: 'groups: the groups a key belongs to, named on its audit records (JSON arrays)',
    sqlite: [
      `ALTER TABLE api_keys ADD COLUMN groups TEXT`,
      `ALTER TABLE audit_records ADD COLUMN groups TEXT`,
    ],
    postgres: [
      `ALTER TABLE api_keys ADD COLUMN groups TEXT`,
      `ALTER TABLE audit_records ADD COLUMN groups TEXT`,
    ],
  },
  {
    version: 11,
    description: 'audit records say when a model had no known price and what it was charged at',
    sqlite: [`ALTER TABLE audit_records ADD COLUMN price_note TEXT`],
    postgres: [`ALTER TABLE audit_records ADD COLUMN price_note TEXT`],
  },
  {
    version: 12,
    description: 'request content stored by delta; indexes for millions of audit records',
    sqlite: [
      `ALTER TABLE audit_records ADD COLUMN request_base TEXT`,
      `ALTER TABLE audit_records ADD COLUMN request_head INTEGER`,
      `ALTER TABLE audit_records ADD COLUMN request_tail INTEGER`,
      `CREATE INDEX audit_request_base ON audit_records (request_base) WHERE request_base IS NOT NULL`,
      ...millionsIndexes,
    ],
    postgres: [
      `ALTER TABLE audit_records ADD COLUMN request_base TEXT`,
      `ALTER TABLE audit_records ADD COLUMN request_head INTEGER`,
      `ALTER TABLE audit_records ADD COLUMN request_tail INTEGER`,
      `CREATE INDEX audit_request_base ON audit_records (request_base) WHERE request_base IS NOT NULL`,
      ...millionsIndexes,
    ],
  },
  {
    version: 13,
    description: 'per-day rollups of the audit records (usage and charts), an index of guard-flagged records',
    sqlite: rollupMigration('sqlite'),
    postgres: rollupMigration('postgres'),
  },
  {
    version: 14,
    description: 'PostgreSQL: audit records in one partition per day, so retention drops whole days',
    sqlite: [],
    postgres: partitionAuditMigration(partitionedAuditColumns, auditIndexesNow),
  },
  {
    version: 15,
    description: SCIM_MIGRATION.description,
    sqlite: SCIM_MIGRATION.statements,
    postgres: SCIM_MIGRATION.statements,
  },
];
