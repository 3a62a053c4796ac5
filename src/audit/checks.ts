/** Findings about the configuration itself: secrets in settings, MCP servers, deny rules, telemetry, bypass, login. */
import picomatch from 'picomatch';
import type { ExplainResult, Profile } from '../policy/types.js';
import { digest, finding } from './finding.js';
import { isRecord } from './files.js';
import { apiCredentialSources, gatewayBaseUrl } from './profile.js';
import { isCredentialName, isLiteralSecret, redactText } from './redact.js';
import type {
  EffectiveEnvVar,
  EffectiveSettings,
  Finding,
  Inspector,
  MachinePaths,
  McpServer,
  SettingsLayer,
} from './types.js';

export interface ConfigCheckInput {
  paths: MachinePaths;
  layers: SettingsLayer[];
  settings: EffectiveSettings;
  env: Record<string, EffectiveEnvVar>;
  servers: McpServer[];
  profile: Profile;
  explain: ExplainResult;
  inspector: Inspector;
  /** MCP server names the organization's policy allows (no `mcp-third-party` for them). */
  mcpAllowlist?: string[];
}

export function checkConfiguration(input: ConfigCheckInput): Finding[] {
  return [
    ...secretsInSettings(input),
    ...thirdPartyMcp(input),
    ...secretsReadable(input),
    ...telemetryOn(input),
    ...bypassPermissions(input),
    ...loginForcedWithGateway(input),
  ];
}

/** Every string of a JSON value with its dot path. */
function* strings(value: unknown, path: string): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* strings(v, `${path}[${i}]`);
  else if (isRecord(value))
    for (const [k, v] of Object.entries(value)) yield* strings(v, path ? `${path}.${k}` : k);
}

function secretsInSettings({ layers, servers, inspector }: ConfigCheckInput): Finding[] {
  const out: Finding[] = [];
  const sources: { file: string; scope: string; root: string; data: unknown }[] = [
    ...layers.map((l) => ({ file: l.file, scope: l.scope, root: '', data: l.settings })),
    ...servers.map((s) => ({ file: s.file, scope: s.scope, root: `mcpServers.${s.name}`, data: s.config })),
  ];
  for (const src of sources) {
    for (const [path, value] of strings(src.data, src.root)) {
      const name = path.split('.').pop() ?? '';
      const inEnv = /(^|\.)(env|headers)\.[^.]+$/.test(path);
      const hits: { rule: string; value: string }[] = inspector
        .scan(value, { kinds: ['secret'] })
        .map((d) => ({ rule: d.rule, value: d.value }));
      if (!hits.length && inEnv && isCredentialName(name) && isLiteralSecret(value)) {
        hits.push({ rule: 'credential-variable', value });
      }
      for (const hit of hits) {
        const committed = src.scope === 'project';
        out.push(
          finding(
            {
              id: 'secret-in-settings',
              severity: 'high',
              message: `${path} in this ${src.scope} ${src.root ? 'MCP configuration' : 'settings file'} holds a ${hit.rule} secret (${inspector.mask(hit.value)}) in plaintext${committed ? '; project files are usually committed' : ''}.`,
              file: src.file,
              rule: hit.rule,
              fix: `Rotate it; remove it from ${src.file} and fetch it at run time instead (apiKeyHelper reading a vault or keychain, or \${VAR} expansion in .mcp.json).`,
            },
            path,
            hit.rule,
            digest(hit.value),
          ),
        );
      }
    }
  }
  return out;
}

/** A short, secret-free description of where an MCP server runs. */
function describeServer(server: McpServer, inspector: Inspector): string {
  if (server.url) {
    try {
      const u = new URL(server.url);
      return `${server.transport} ${u.protocol}//${u.host}`;
    } catch {
      return `${server.transport} ${redactText(server.url, inspector)}`;
    }
  }
  return server.command ? `stdio \`${redactText(server.command, inspector)}\`` : server.transport;
}

function thirdPartyMcp({ servers, inspector, mcpAllowlist }: ConfigCheckInput): Finding[] {
  return servers
    .filter((s) => s.active && !mcpAllowlist?.includes(s.name))
    .map((s) =>
      finding(
        {
          id: 'mcp-third-party',
          severity: 'medium',
          message: `MCP server "${s.name}" (${describeServer(s, inspector)}) is configured in ${s.scope} scope; it receives tool inputs (code, file contents) and may send them to a third party.`,
          file: s.file,
          fix: 'Keep it only if vetted; list vetted servers in the policy mcpAllowlist and enforce with `sluice managed-settings` (allowedMcpServers, allowManagedMcpServersOnly).',
        },
        s.name,
        s.scope,
      ),
    );
}

const DOTENV_SAMPLES = ['.env', '.env.local', 'app/.env'];

/** True when a permission rule keeps the Read tool away from `.env`-style files. */
export function coversDotEnv(rule: string): boolean {
  const m = /^\s*Read\s*(?:\((.*)\))?\s*$/.exec(rule);
  if (!m) return false;
  const spec = m[1]?.trim();
  if (spec === undefined || spec === '' || spec === '*' || spec === '**') return true;
  const glob = spec.replace(/^(\.\/|~\/|\/\/|\/)+/, '');
  const match = picomatch(glob, { dot: true });
  return (
    DOTENV_SAMPLES.some((s) => match(s)) ||
    (glob.startsWith('**/') && DOTENV_SAMPLES.some((s) => match(`x/${s}`)))
  );
}

function secretsReadable({ settings, paths }: ConfigCheckInput): Finding[] {
  const deny = (settings.lists['permissions.deny'] ?? []).map((i) => String(i.value));
  if (deny.some(coversDotEnv)) return [];
  return [
    finding({
      id: 'secrets-readable',
      severity: 'high',
      message:
        'No permissions.deny rule keeps .env-style files from the Read tool; Claude Code reads them without asking in -p mode and sends their content upstream.',
      fix: `Add to permissions.deny in managed settings (${paths.managedSettings}): "Read(./.env)", "Read(./.env.*)", "Read(**/.env)", "Read(**/.env.*)".`,
    }),
  ];
}

function telemetryOn({ profile, explain, paths }: ConfigCheckInput): Finding[] {
  if (profile.provider !== 'anthropic') return [];
  const on = explain.flows.filter((f) => (f.id === 'telemetry' || f.id === 'error-reporting') && f.enabled);
  if (!on.length) return [];
  return [
    finding(
      {
        id: 'telemetry-on',
        severity: 'medium',
        message: `Operational data leaves this machine for Anthropic's vendors: ${on.map((f) => `${f.id} -> ${f.destination}`).join(', ')} (rules: ${[...new Set(on.flatMap((f) => f.rules))].join(', ')}).`,
        fix: `Set env CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 (or DISABLE_TELEMETRY=1 and DISABLE_ERROR_REPORTING=1) in ${paths.managedSettings}.`,
      },
      on.map((f) => f.id).join(','),
    ),
  ];
}

function bypassPermissions({ layers, settings, paths }: ConfigCheckInput): Finding[] {
  const out: Finding[] = [];
  for (const layer of layers) {
    const perms = layer.settings.permissions;
    if (isRecord(perms) && perms.defaultMode === 'bypassPermissions') {
      out.push(
        finding({
          id: 'bypass-permissions-allowed',
          severity: 'high',
          message: `permissions.defaultMode is "bypassPermissions" in this ${layer.scope} settings file: every tool runs without asking.`,
          file: layer.file,
          fix: `Remove defaultMode "bypassPermissions" and set permissions.disableBypassPermissionsMode to "disable" in ${paths.managedSettings}.`,
        }),
      );
    }
  }
  const origin = settings.origins['permissions.disableBypassPermissionsMode'];
  const value = isRecord(settings.values.permissions)
    ? settings.values.permissions.disableBypassPermissionsMode
    : undefined;
  if (!(value === 'disable' && origin?.scope === 'managed')) {
    out.push(
      finding({
        id: 'bypass-permissions-allowed',
        severity: 'medium',
        message:
          value === 'disable'
            ? `permissions.disableBypassPermissionsMode is "disable" only in a ${origin?.scope} file, which users can change; managed settings do not set it.`
            : 'Managed settings do not set permissions.disableBypassPermissionsMode to "disable": anyone can run with --dangerously-skip-permissions.',
        file: origin?.file ?? paths.managedSettings,
        fix: `Set "permissions": {"disableBypassPermissionsMode": "disable"} in ${paths.managedSettings}.`,
      }),
    );
  }
  return out;
}

function loginForcedWithGateway({ settings, env }: ConfigCheckInput): Finding[] {
  const forced = ['forceLoginMethod', 'forceLoginOrgUUID'].filter((k) => settings.values[k] !== undefined);
  if (!forced.length) return [];
  const creds = apiCredentialSources(env, settings);
  const gateway = gatewayBaseUrl(env);
  if (!creds.length && !gateway) return [];
  const what = [...creds, ...(gateway ? [`ANTHROPIC_BASE_URL (${hostOf(gateway)})`] : [])];
  const origin = settings.origins[forced[0]!];
  return [
    finding({
      id: 'login-forced-with-gateway',
      severity: 'high',
      message: `${forced.join(' and ')} force a first-party login, but ${what.join(', ')} is configured: Claude Code refuses to start ("This machine's managed settings require a first-party login") or bypasses the gateway.`,
      ...(origin ? { file: origin.file } : {}),
      fix: 'Choose one: remove forceLoginMethod/forceLoginOrgUUID for a gateway or API-key deployment, or remove the API credentials and gateway URL.',
    }),
  ];
}

/** The host of a URL, without any credentials or query it may carry. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(unparseable URL)';
  }
}
