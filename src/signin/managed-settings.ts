/**
 * `/managed/settings` for signed-in clients: the settings `sluice managed-settings --policy`
 * generates, chosen per org and group, in the protocol's `{uuid, checksum, settings}` wrapper
 * with a checksum over keys sorted at every level, served with that checksum as a quoted ETag.
 */
import { createHash } from 'node:crypto';

/** One rule of `signin.managedSettings` with its policy already turned into settings. */
export interface SettingsRule {
  groups?: string[];
  org?: string;
  settings: Record<string, unknown>;
}

/** JSON with object keys sorted at every level and no whitespace. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

export const settingsChecksum = (settings: Record<string, unknown>): string =>
  `sha256:${createHash('sha256').update(canonicalJson(settings), 'utf8').digest('hex')}`;

/**
 * The base layer under the policy's own env: Claude Code's telemetry to Sluice's OTLP receiver, and
 * hint headers, with which every model request names the checksum of the settings the client
 * applied (`x-claude-code-managed-settings-checksum`): what shows that a client is governed.
 */
export function baseEnv(publicUrl: string): Record<string, string> {
  return {
    CLAUDE_CODE_GATEWAY_HINT_HEADERS: '1',
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_EXPORTER_OTLP_ENDPOINT: publicUrl,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
  };
}

/** The settings for a caller in `org` with `groups`: the first rule that fits, or null (404). */
export function settingsFor(
  rules: readonly SettingsRule[],
  org: string,
  groups: readonly string[],
  publicUrl: string,
): { settings: Record<string, unknown>; checksum: string; rule: number } | null {
  const i = rules.findIndex(
    (r) => (!r.org || r.org === org) && (!r.groups || r.groups.some((g) => groups.includes(g))),
  );
  if (i < 0) return null;
  const own = rules[i]!.settings;
  const env = { ...baseEnv(publicUrl), ...((own.env as Record<string, string> | undefined) ?? {}) };
  const settings = { ...own, env };
  return { settings, checksum: settingsChecksum(settings), rule: i };
}
