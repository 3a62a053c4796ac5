/**
 * Reloading `sluice.yaml` while the gateway runs (SIGHUP or a file watch): what changed, with
 * secrets redacted, as one admin-log entry; which settings only a restart applies (they keep their
 * running values); and a bad file's problem as one log line with no secret in it.
 */
import type { Store } from '../store/types.js';
import { recordAdmin } from './admin-log.js';
import { ConfigError, type SluiceConfig } from './config.js';
import { applyConfig } from './orgs.js';

/** One changed setting: its dotted path, and the values before and after (secrets redacted). */
export interface ConfigChange {
  path: string;
  from: unknown;
  to: unknown;
}

/**
 * Settings a running gateway cannot take over (its listeners, its store, its journal, its signing
 * key): a reload leaves them as they run and says so. `server.tls` files are re-read; switching
 * TLS on or off needs a restart.
 */
export const RESTART_ONLY = [
  'server.host',
  'server.port',
  'server.metricsListen',
  'storage',
  'journal',
  'egress',
  'adminLog',
  'sandbox',
] as const;

export const REDACTED = '[redacted]';

/** Whether the value at `path` is a credential (upstream keys, admin tokens, webhook headers and URLs). */
function isSecret(path: readonly string[]): boolean {
  const [top, , field] = path;
  if (top === 'upstreams' && field === 'apiKey') return true;
  if (top === 'admin' && path[1] === 'tokens') return true;
  if (top === 'adminLog' && path[1] === 'webhook' && (path[2] === 'headers' || path[2] === 'url'))
    return true;
  // A Slack incoming-webhook URL is its own credential.
  if (top === 'alerts' && (path[2] === 'url' || path[2] === 'headers')) return true;
  return false;
}

/** A store URL with its password replaced. */
function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/, `$1${REDACTED}@`);
}

/** `value` with every secret below `path` replaced by `[redacted]`. */
export function redactConfig(value: unknown, path: string[] = []): unknown {
  if (isSecret(path)) return value === undefined ? undefined : REDACTED;
  if (path.length === 1 && path[0] === 'storage' && typeof value === 'string') return redactUrl(value);
  if (Array.isArray(value)) return value.map((v, i) => redactConfig(v, [...path, String(i)]));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactConfig(v, [...path, k])]));
  return value;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The settings that differ between `before` and `after`, at the deepest object key that holds them
 * (a list is one value), secrets redacted. `orgs` is left to applyConfig, which logs each org's
 * policy change on its own.
 */
export function configChanges(before: SluiceConfig, after: SluiceConfig): ConfigChange[] {
  const changes: ConfigChange[] = [];
  const walk = (a: unknown, b: unknown, path: string[]) => {
    if (isObject(a) && isObject(b)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[k], b[k], [...path, k]);
      return;
    }
    if (JSON.stringify(a) === JSON.stringify(b)) return;
    const secret = isSecret(path);
    // A secret's change is logged as a change, never with either value.
    changes.push({
      path: path.join('.'),
      from: secret ? (a === undefined ? null : REDACTED) : (redactConfig(a, path) ?? null),
      to: secret ? (b === undefined ? null : REDACTED) : (redactConfig(b, path) ?? null),
    });
  };
  const { orgs: _a, ...a } = before;
  const { orgs: _b, ...b } = after;
  walk(a, b, []);
  return changes;
}

const get = (v: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), v);

/**
 * The configuration a reload runs under: `next`, with the restart-only settings as they run now,
 * and the paths of those that the file changed (logged: they wait for a restart).
 */
export function reloadable(
  running: SluiceConfig,
  next: SluiceConfig,
): { config: SluiceConfig; waiting: string[] } {
  const config = structuredClone(next);
  const waiting: string[] = [];
  for (const path of RESTART_ONLY) {
    const was = get(running, path);
    if (JSON.stringify(was) !== JSON.stringify(get(config, path))) waiting.push(path);
    const keys = path.split('.');
    const last = keys.pop() as string;
    const parent = keys.reduce<Record<string, unknown>>(
      (o, k) => o[k] as Record<string, unknown>,
      config as unknown as Record<string, unknown>,
    );
    if (was === undefined) delete parent[last];
    else parent[last] = structuredClone(was);
  }
  // TLS on or off changes the listener; new files for it are taken.
  if (Boolean(running.server.tls) !== Boolean(config.server.tls)) {
    waiting.push('server.tls');
    if (running.server.tls) config.server.tls = structuredClone(running.server.tls);
    else delete config.server.tls;
  }
  return { config, waiting };
}

/**
 * A configuration problem as one log line: the key paths and what was expected, without the
 * source excerpt a YAML parser quotes (it could hold a secret).
 */
export function reloadProblem(err: unknown): string {
  if (!(err instanceof ConfigError)) return `cannot reload: ${(err as Error)?.message ?? String(err)}`;
  const head = err.message.split('\n\n')[0] ?? err.message;
  return head
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('; ');
}

/**
 * Writes a reload to the admin log: one `config.reloaded` entry with every setting the file changed
 * outside the orgs (old and new values, secrets redacted; those only a restart applies listed apart),
 * then each org's change as applyConfig logs it. `next` is the file as read, `applied` what runs.
 */
export async function recordReload(
  store: Store,
  at: Date,
  actor: string,
  running: SluiceConfig,
  next: SluiceConfig,
  applied: SluiceConfig,
): Promise<{ changed: ConfigChange[]; waiting: ConfigChange[] }> {
  const changed = configChanges(running, applied);
  const applies = new Set(changed.map((c) => c.path));
  const waiting = configChanges(running, next).filter((c) => !applies.has(c.path));
  if (changed.length || waiting.length)
    await recordAdmin(store, at, actor, 'config.reloaded', 'sluice.yaml', {
      changed,
      ...(waiting.length ? { waitingForRestart: waiting } : {}),
    });
  await applyConfig(store, applied, at, actor);
  return { changed, waiting };
}
