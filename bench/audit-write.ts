/**
 * What writing one audit record costs the gateway's process on SQLite: CPU time (user + system of
 * this process, `process.cpuUsage`) per record for records handed to `SqliteStore.insertAudit` at
 * `--rate` a second (a few each millisecond, as a gateway's requests end; the store gathers them
 * into batches), after `--fill` records already stored (a table of that size, its indexes deep).
 * Each record is a request of one of 4 users of one org, one model, the time advancing, the guard
 * acting on 1 in 100; with `--content` bytes of content (a streamed request's stored delta).
 *
 * The driver's own CPU (the same loop with an insert that does nothing) is measured at each rate
 * and taken off. Beside it: the records per commit that rate gave, and the same records inserted into
 * `audit_records` alone, as many per transaction (no rollups kept, no batching machinery): the
 * floor of the insert itself.
 *
 * Run: node --import tsx bench/audit-write.ts [--records 10000] [--rate 250,1000,4000] [--fill 200000]
 *        [--content 600]
 * To compare two builds, run it in each checkout (`cd DIR && node --import tsx bench/audit-write.ts`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AUDIT_COLUMNS, auditValues } from '../src/store/rows.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { AuditRecord } from '../src/store/types.js';
import { auditRecord } from './audit-record.js';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const at = argv.indexOf(`--${name}`);
  return at < 0 ? fallback : (argv[at + 1] ?? fallback);
};
const RECORDS = Number(arg('records', '10000'));
const RATES = arg('rate', '250,1000,4000').split(',').map(Number);
const FILL = Number(arg('fill', '200000'));
const CONTENT = Number(arg('content', '600'));
const START = Date.UTC(2026, 10, 2, 9);

let n = 0;
function record(): AuditRecord {
  const i = n++;
  return auditRecord({
    time: new Date(START + i * 40).toISOString(),
    org: 'acme',
    user: `u${i % 4}@acme.test`,
    keyId: `key_${i % 4}`,
    sessionId: `sess-${i % 16}`,
    latencyMs: 230,
    guard:
      i % 100 === 0
        ? { decision: 'redact', rules: { 'aws-access-key': 1 } }
        : { decision: 'none', rules: {} },
    requestContent: CONTENT ? 'x'.repeat(CONTENT) : null,
  });
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * CPU ms per record for `records` records given to the store at `rate` a second (a few every
 * millisecond, as a gateway's requests end), and the records per commit that gave.
 */
async function through(
  store: Pick<SqliteStore, 'insertAudit'>,
  rate: number,
  records: number,
): Promise<[number, number]> {
  let commits = 0;
  let inTurn = false;
  const pending: Promise<void>[] = [];
  const before = cpuMs();
  const t0 = performance.now();
  for (let sent = 0; sent < records;) {
    const due = Math.min(records, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
    for (; sent < due; sent++)
      pending.push(
        store.insertAudit(record()).then(() => {
          // Records of one commit settle in the same turn of the event loop.
          if (inTurn) return;
          commits++;
          inTurn = true;
          setImmediate(() => (inTurn = false));
        }),
      );
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  return [(cpuMs() - before) / records, records / commits];
}

/** The same records inserted into audit_records alone, `batch` per transaction (no rollups). */
function bare(file: string, batch: number, records: number): number {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const stmt = db.prepare(
    `INSERT INTO audit_records (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(', ')})`,
  );
  const tx = db.transaction((rs: AuditRecord[]) => {
    for (const r of rs) stmt.run(...auditValues(r, (b) => (b ? 1 : 0)));
  });
  const before = cpuMs();
  for (let done = 0; done < records; done += batch) {
    const rs: AuditRecord[] = [];
    for (let k = 0; k < batch; k++) rs.push(record());
    tx(rs);
  }
  const per = (cpuMs() - before) / records;
  db.close();
  return per;
}

const dir = await mkdtemp(join(tmpdir(), 'sluice-audit-write-'));
try {
  const file = join(dir, 'audit.db');
  let store = new SqliteStore(file);
  await store.migrate();
  for (let left = FILL; left > 0; left -= 5000)
    await store.insertAudits(Array.from({ length: Math.min(5000, left) }, record));
  console.log(
    `audit record writes on SQLite: ${RECORDS} records per cell after ${FILL} stored, ${CONTENT} B content; ` +
      `load average ${loadavg()[0]?.toFixed(1)}`,
  );
  // Warm the statements and the page cache.
  await through(store, 1000, 2000);
  console.log(
    'records/s | insertAudit CPU ms/record | records per commit | insert alone, as many per commit',
  );
  for (const rate of RATES) {
    // This driver's own CPU (a timer each millisecond, a promise per record), taken off below.
    const [driver] = await through({ insertAudit: () => Promise.resolve() }, rate, RECORDS);
    const [measured, perCommit] = await through(store, rate, RECORDS);
    const withRollups = measured - driver;
    await store.close();
    const alone = bare(file, Math.max(1, Math.round(perCommit)), RECORDS);
    console.log(
      `${String(rate).padStart(9)} | ${withRollups.toFixed(4).padStart(25)} | ${perCommit.toFixed(1).padStart(18)} | ${alone.toFixed(4)}`,
    );
    store = new SqliteStore(file);
    await store.migrate();
  }
  await store.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
