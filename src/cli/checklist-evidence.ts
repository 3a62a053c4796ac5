/**
 * What `sluice checklist` reads besides this machine: one org of the gateway's configuration, its
 * store (requests, keys, egress records, the admin log) and the attestations file, whose new entries
 * it records in the admin log.
 */
import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { recordAdmin, verifyChain } from '../control/admin-log.js';
import { cliActor } from './actor.js';
import { upstreamsOf, type SluiceConfig } from '../control/config.js';
import {
  adminLogEntry,
  AttestationsError,
  ATTESTED,
  matchAdminLog,
  parseAttestations,
} from '../audit/checklist/attestations.js';
import type { Attestation, GatewayOrg, RecordedAttestation, StoreView } from '../audit/checklist/types.js';
import type { Store } from '../store/types.js';
import { CliError } from './exit.js';

/** The one org to check: `--org`, or the only org of the configuration. */
export function pickOrg(config: SluiceConfig, file: string, name?: string): GatewayOrg {
  const names = Object.keys(config.orgs);
  const chosen = name ?? (names.length === 1 ? names[0] : undefined);
  if (!chosen)
    throw new CliError(`${file} has several orgs; choose one with --org (have: ${names.join(', ')})`);
  const org = config.orgs[chosen];
  if (!org) throw new CliError(`no org "${chosen}" in ${file} (have: ${names.join(', ')})`);
  return {
    file,
    name: chosen,
    listen: { host: config.server.host, port: config.server.port },
    // The first upstream of the org's failover list answers when all is well.
    upstreamProvider: config.upstreams[upstreamsOf(org)[0] ?? '']?.provider ?? 'unknown',
    zdr: org.zdr,
    contentLogging: org.contentLogging,
    guard: { secrets: org.guard.secrets, pii: org.guard.pii },
    ...(org.profile ? { profile: org.profile } : {}),
    egressProxy: config.egress !== undefined,
    budgets: Boolean(org.budgets.perUser ?? org.budgets.org),
    rateLimits: Boolean(org.rateLimits.perUser),
    ...(org.sandbox?.enabled
      ? { sandbox: { repositories: org.sandbox.repositories, egressAllow: org.sandbox.egress.allow } }
      : {}),
  };
}

const unattributed = (key: string) => !key || key === '(none)';

/** The org's records in the store since `since`. */
export async function readStoreView(store: Store, org: string, since: string): Promise<StoreView> {
  const [byUser, byModel, latest, keys, egress, log] = await Promise.all([
    store.usage({ org, since, by: 'user' }),
    store.usage({ org, since, by: 'model' }),
    store.queryAudit({ org, since, limit: 1 }),
    store.listKeys({ org }),
    store.queryEgress({ org, since, limit: 1_000_000 }),
    store.listAdminLog(),
  ]);
  const chain = verifyChain(log);
  return {
    requests: byUser.reduce((n, r) => n + r.requests, 0),
    attributed: byUser.filter((r) => !unattributed(r.key)).reduce((n, r) => n + r.requests, 0),
    users: byUser.filter((r) => !unattributed(r.key)).map((r) => r.key),
    models: byModel.filter((r) => !unattributed(r.key)).map((r) => r.key),
    latest: latest[0]?.time ?? null,
    keys: keys.map((k) => ({ user: k.user, role: k.role, revoked: k.revokedAt !== null })),
    egress: egress.map((r) => ({
      host: r.host,
      port: r.port,
      decision: r.decision,
      user: r.user,
      time: r.time,
    })),
    adminLog: chain.ok
      ? { entries: chain.entries, intact: true }
      : { entries: log.length, intact: false, brokenAt: chain.seq, reason: chain.reason },
  };
}

/** The attestations of `file` (none when it is the default and absent). */
export async function readAttestations(
  file: string,
  explicit: boolean,
  items: string[],
): Promise<Attestation[]> {
  if (!explicit && !existsSync(file)) return [];
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(
      `${file}: cannot read attestations: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  try {
    return parseAttestations(text, file, items);
  } catch (err) {
    if (err instanceof AttestationsError) throw new CliError(err.message);
    throw err;
  }
}

/** Records in the admin log every attestation not yet there, and returns them all matched to their entries. */
export async function recordAttestations(
  store: Store,
  attestations: Attestation[],
  file: string,
  now: Date,
): Promise<RecordedAttestation[]> {
  const matched = matchAdminLog(attestations, await store.listAdminLog());
  for (const a of matched.filter((m) => m.adminLogSeq === undefined)) {
    const { target, details } = adminLogEntry(a, file);
    const entry = await recordAdmin(store, now, cliActor(), ATTESTED, target, details);
    a.adminLogSeq = entry.seq;
  }
  return matched;
}

/** Writes the attestations file readable by its owner only: it is a record of who stated what. */
export async function writeAttestations(file: string, text: string): Promise<void> {
  await writeFile(file, text, { mode: 0o600 });
  await chmod(file, 0o600);
}
