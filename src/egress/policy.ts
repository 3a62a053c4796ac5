/**
 * Egress policy: which hosts a client may reach through the proxy. Rules are host patterns
 * (`registry.npmjs.org`, `*.internal.example.com` for any subdomain, `*` for anything), optionally
 * with a port (`registry.npmjs.org:443`), or named presets derived from the policy model. Deny
 * rules win over allow rules; anything no rule allows is denied ("nothing else leaves").
 */
import { canonicalAddress } from './addresses.js';
import { HOSTS } from './hosts.js';

export interface Preset {
  hosts: string[];
  /** Where the list comes from. */
  source: string;
}

/** The hosts of hosts.ts that `preset` lists, in the table's order. */
const hostsOf = (preset: string): string[] => HOSTS.filter((h) => h.preset === preset).map((h) => h.pattern);

/** Named host sets, from Claude Code's documented network requirements (shared/reference/claude-code-network.md §1.8). */
export const PRESETS: Record<string, Preset> = {
  'anthropic-api': {
    hosts: hostsOf('anthropic-api'),
    source:
      'https://code.claude.com/docs/en/network-config (API, WebFetch check, feature flags, event logging)',
  },
  'claude-code-essential': {
    hosts: hostsOf('claude-code-essential'),
    source: 'https://code.claude.com/docs/en/network-config (sign-in, token refresh, installer and updater)',
  },
  'claude-code-nonessential': {
    hosts: hostsOf('claude-code-nonessential'),
    source:
      'https://code.claude.com/docs/en/network-config (telemetry and error reporting; legacy Statsig and Sentry)',
  },
  bedrock: {
    hosts: hostsOf('bedrock'),
    source:
      'shared/reference/claude-code-network.md §5.1 (https://bedrock-runtime.{AWS_REGION}.amazonaws.com; ANTHROPIC_BEDROCK_BASE_URL overrides it)',
  },
  vertex: {
    hosts: hostsOf('vertex'),
    source:
      'shared/reference/claude-code-network.md §5.2 ({region}-aiplatform.googleapis.com, global and multi-region endpoints) and Google OAuth token exchange',
  },
  foundry: {
    hosts: hostsOf('foundry'),
    source:
      'shared/reference/claude-code-network.md §1.6 ({resource}.services.ai.azure.com) and Microsoft Entra ID sign-in',
  },
  'package-registries': {
    hosts: [
      'registry.npmjs.org:443',
      'registry.yarnpkg.com:443',
      'pypi.org:443',
      'files.pythonhosted.org:443',
      'proxy.golang.org:443',
      'crates.io:443',
      'static.crates.io:443',
      'index.crates.io:443',
      'rubygems.org:443',
    ],
    source: 'the public registries of npm, PyPI, Go, Cargo and RubyGems',
  },
};

interface Pattern {
  /** The rule as written (a preset name for preset hosts). */
  rule: string;
  host: string;
  /** `label`: `*` inside a name (`bedrock-runtime.*.amazonaws.com`) matches within one label. */
  wildcard: 'none' | 'subdomains' | 'any' | 'label';
  glob?: RegExp;
  port: number | null;
  /** Written out host (not a preset or wildcard): may name a private address. */
  explicit: boolean;
}

export class EgressPolicyError extends Error {}

function parsePattern(text: string, rule: string, fromPreset: boolean): Pattern {
  const m = /^(\*|\*\.[a-z0-9.-]+|[a-z0-9.*-]+|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/i.exec(text.trim());
  if (!m)
    throw new EgressPolicyError(
      `"${text}" is not a host, *.domain, * or a preset (${Object.keys(PRESETS).join(', ')})`,
    );
  const raw = (m[1] as string).toLowerCase();
  const port = m[2] ? Number(m[2]) : null;
  if (port !== null && (port < 1 || port > 65535))
    throw new EgressPolicyError(`"${text}": port out of range`);
  if (raw === '*') return { rule, host: '', wildcard: 'any', port, explicit: false };
  if (raw.startsWith('*.'))
    return { rule, host: raw.slice(2), wildcard: 'subdomains', port, explicit: false };
  if (raw.includes('*')) {
    const labels = raw.split('.');
    const lastStar = labels.findLastIndex((l) => l.includes('*'));
    if (labels.length - lastStar - 1 < 2)
      throw new EgressPolicyError(`"${text}": a * inside a name needs at least two fixed labels after it`);
    const glob = new RegExp(`^${raw.replace(/\./g, '\\.').replace(/\*/g, '[a-z0-9-]*')}$`);
    return { rule, host: raw, wildcard: 'label', glob, port, explicit: false };
  }
  return { rule, host: canonicalHost(raw), wildcard: 'none', port, explicit: !fromPreset };
}

/**
 * A host as rules compare it: lower case, without a trailing dot or IPv6 brackets, and an IP
 * literal in its one spelling (so `[0::1]` meets a rule for `::1`, `[::ffff:7f00:1]` one for `127.0.0.1`).
 */
export function canonicalHost(host: string): string {
  const bare = host
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/^\[|\]$/g, '');
  return canonicalAddress(bare) ?? bare;
}

/** Edits (insert, delete, substitute) from `a` to `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        (previous[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = row;
  }
  return previous[b.length] as number;
}

/** The preset `name` is probably a typo of (a few edits away), if any. */
function nearestPreset(name: string): string | undefined {
  const scored = Object.keys(PRESETS)
    .map((p) => ({ p, d: editDistance(name, p) }))
    .filter(({ p, d }) => d > 0 && d <= Math.max(2, Math.floor(p.length / 4)))
    .sort((x, y) => x.d - y.d);
  return scored[0]?.p;
}

/**
 * A written entry that is not a preset must read as a host: a name without a dot (other than
 * localhost) or one a few edits from a preset is a typo, not a host (`package-registry`).
 */
function checkWrittenEntry(entry: string): void {
  const name = entry.trim().toLowerCase().replace(/:\d+$/, '');
  const bare =
    !name.includes('.') && name !== 'localhost' && name !== '*' && canonicalAddress(name) === undefined;
  const near = nearestPreset(name);
  if (!bare && !near) return;
  throw new EgressPolicyError(
    `"${entry}" is not a preset${bare ? ', and a host name needs a dot (only localhost has none)' : ''}; ` +
      (near ? `did you mean ${near}?` : `presets are ${Object.keys(PRESETS).join(', ')}`),
  );
}

function expand(entries: readonly string[]): Pattern[] {
  return entries.flatMap((e) => {
    const preset = PRESETS[e];
    if (preset) return preset.hosts.map((h) => parsePattern(h, e, true));
    const pattern = parsePattern(e, e, false);
    checkWrittenEntry(e);
    return [pattern];
  });
}

function matches(p: Pattern, host: string, port: number): boolean {
  if (p.port !== null && p.port !== port) return false;
  if (p.wildcard === 'any') return true;
  if (p.wildcard === 'subdomains') return host.endsWith(`.${p.host}`);
  if (p.wildcard === 'label') return (p.glob as RegExp).test(host);
  return host === p.host;
}

export interface Decision {
  decision: 'allow' | 'deny';
  /** The rule that decided, or `default-deny`. */
  rule: string;
  /** The host was written out in an allow rule: it may resolve to a private address. */
  explicit: boolean;
}

export class EgressPolicy {
  private readonly allow: Pattern[];
  private readonly deny: Pattern[];

  constructor(allow: readonly string[], deny: readonly string[]) {
    this.allow = expand(allow);
    this.deny = expand(deny);
  }

  decide(hostIn: string, port: number): Decision {
    const host = canonicalHost(hostIn);
    const denied = this.deny.find((p) => matches(p, host, port));
    if (denied) return { decision: 'deny', rule: `deny:${denied.rule}`, explicit: false };
    const allowed = this.allow.find((p) => matches(p, host, port));
    if (allowed) return { decision: 'allow', rule: `allow:${allowed.rule}`, explicit: allowed.explicit };
    return { decision: 'deny', rule: 'default-deny', explicit: false };
  }
}

/** The presets whose hosts include `host:port`: which documented flow a contacted host belongs to. */
export function presetsFor(host: string, port: number): string[] {
  return Object.entries(PRESETS)
    .filter(([name]) => new EgressPolicy([name], []).decide(host, port).decision === 'allow')
    .map(([name]) => name);
}
