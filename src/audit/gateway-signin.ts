/**
 * A client governed by a company gateway (the Claude apps gateway protocol, docs/sign-in.md): the
 * machine's managed settings force the gateway login (`forceLoginMethod: "gateway"` and
 * `forceLoginGatewayUrl`, honoured only from a machine-managed source), Claude Code is signed in to
 * that gateway (`enterpriseGateway` in `<config dir>/.credentials.json`), and it takes its managed
 * settings from it (cached, once approved, in `remote-settings.json` with `.synced-at` beside it).
 * Tokens are never read out: only the URL, the account and the expiry.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { finding } from './finding.js';
import { readJsonObject } from './files.js';
import type { EffectiveSettings, Finding, MachinePaths } from './types.js';

/** What the machine shows of a gateway sign-in. */
export interface GatewaySignIn {
  /** The gateway the machine-managed settings make the client sign in to. */
  forced: { url: string; file: string } | null;
  /** The sign-in Claude Code stored (the credentials file on Linux and Windows; macOS keeps it in the keychain). */
  signedIn: { url: string; email: string | null; expiresAt: string | null; file: string } | null;
  /** The gateway's managed settings as the client cached them after they were approved. */
  cached: { file: string; syncedAt: string | null; keys: string[]; checksum: string } | null;
}

/** The protocol's checksum: SHA-256 of the JSON with keys sorted at every level (what the gateway's ETag holds). */
export function settingsChecksum(settings: unknown): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sorted)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
          )
        : v;
  return `sha256:${createHash('sha256')
    .update(JSON.stringify(sorted(settings)))
    .digest('hex')}`;
}

function origin(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

function forcedGateway(settings: EffectiveSettings): GatewaySignIn['forced'] {
  const method = settings.values.forceLoginMethod;
  const url = settings.values.forceLoginGatewayUrl;
  const from = settings.origins.forceLoginGatewayUrl;
  // The client honours both keys from a machine-managed source only.
  if (method !== 'gateway' || typeof url !== 'string' || !url || from?.scope !== 'managed') return null;
  return { url, file: from.file };
}

async function storedSignIn(configDir: string): Promise<GatewaySignIn['signedIn']> {
  const file = join(configDir, '.credentials.json');
  const read = await readJsonObject(file, 'credentials file');
  if (read.status !== 'ok') return null;
  const g = read.data.enterpriseGateway;
  if (!g || typeof g !== 'object') return null;
  const { url, email, expiresAt } = g as Record<string, unknown>;
  if (typeof url !== 'string' || !url) return null;
  return {
    url,
    email: typeof email === 'string' && email ? email : null,
    expiresAt: typeof expiresAt === 'number' ? new Date(expiresAt).toISOString() : null,
    file,
  };
}

async function cachedSettings(configDir: string): Promise<GatewaySignIn['cached']> {
  const file = join(configDir, 'remote-settings.json');
  const read = await readJsonObject(file, 'cached managed settings');
  if (read.status !== 'ok') return null;
  const at = Number((await readFile(`${file}.synced-at`, 'utf8').catch(() => '')).trim());
  return {
    file,
    syncedAt: Number.isFinite(at) && at > 0 ? new Date(at).toISOString() : null,
    keys: Object.keys(read.data).sort(),
    checksum: settingsChecksum(read.data),
  };
}

/** Reads the machine's gateway sign-in and says what it means. */
export async function checkGatewaySignIn(
  paths: MachinePaths,
  settings: EffectiveSettings,
): Promise<{ signIn: GatewaySignIn; findings: Finding[] }> {
  const signIn: GatewaySignIn = {
    forced: forcedGateway(settings),
    signedIn: await storedSignIn(paths.configDir),
    cached: await cachedSettings(paths.configDir),
  };
  return { signIn, findings: gatewayFindings(signIn, paths) };
}

function gatewayFindings(s: GatewaySignIn, paths: MachinePaths): Finding[] {
  const { forced, signedIn, cached } = s;
  if (forced && signedIn && origin(forced.url) === origin(signedIn.url)) {
    const who = signedIn.email ? ` as ${signedIn.email}` : '';
    const copy = cached
      ? `its cached copy (${cached.file}${cached.syncedAt ? `, fetched ${cached.syncedAt}` : ''}) sets ${cached.keys.join(', ') || 'nothing'}, checksum ${cached.checksum}`
      : 'no approved copy is cached yet (an interactive start asks the person to approve them; a `claude -p` run applies them without caching)';
    return [
      finding(
        {
          id: 'gateway-governed',
          severity: 'info',
          message: `Claude Code is signed in to the company gateway ${signedIn.url}${who} and takes its managed settings from it (forceLoginMethod "gateway" in ${forced.file}); ${copy}.`,
          file: signedIn.file,
          fix: "Nothing to fix: the gateway's policy (signin.managedSettings in sluice.yaml) is what this client follows; compare the checksum with the ETag of /managed/settings.",
        },
        signedIn.url,
      ),
    ];
  }
  if (forced) {
    const state = signedIn
      ? `it is signed in to another gateway, ${signedIn.url} (${signedIn.file})`
      : `it is not signed in (no enterpriseGateway in ${join(paths.configDir, '.credentials.json')})`;
    return [
      finding(
        {
          id: 'gateway-sign-in-missing',
          severity: 'low',
          message: `The managed settings make Claude Code sign in to the company gateway ${forced.url}, but ${state}: it asks for /login at start and sends nothing until then.`,
          file: forced.file,
          fix: `Run \`claude auth login\` (or /login in Claude Code) and sign in to ${forced.url}.`,
        },
        forced.url,
      ),
    ];
  }
  if (signedIn)
    return [
      finding(
        {
          id: 'gateway-sign-in-unused',
          severity: 'low',
          message: `Claude Code holds a sign-in to the gateway ${signedIn.url} (${signedIn.file}), but no machine-managed forceLoginMethod "gateway" with that forceLoginGatewayUrl: the client does not use it, and the gateway's managed settings do not apply.`,
          file: signedIn.file,
          fix: `Put {"forceLoginMethod": "gateway", "forceLoginGatewayUrl": "${signedIn.url}"} in ${paths.managedSettings}, or run \`claude auth logout\`.`,
        },
        signedIn.url,
      ),
    ];
  return [];
}
