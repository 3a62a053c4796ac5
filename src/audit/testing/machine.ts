/** Fixture machines for tests: a temporary home, project and managed directory, and stand-in deps. */
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Detection } from '../../guard/types.js';
import type { ExplainResult, Flow, Profile } from '../../policy/types.js';
import type { AuditDeps, Inspector, Machine } from '../types.js';

export const NOW = new Date('2026-03-01T12:00:00Z');
const DAY = 86_400_000;

export interface Fixture {
  root: string;
  machine: Machine;
  home: string;
  project: string;
  managed: string;
  /** Writes `content` (objects as JSON) at `path` under the fixture root, creating folders. */
  write(path: string, content: unknown, ageInDays?: number): Promise<string>;
  cleanup(): Promise<void>;
}

export async function fixture(env: Record<string, string> = {}): Promise<Fixture> {
  const root = await mkdtemp(join(tmpdir(), 'sluice-audit-'));
  const home = join(root, 'home');
  const project = join(root, 'project');
  const managed = join(root, 'managed');
  await Promise.all([home, project, managed].map((d) => mkdir(d, { recursive: true })));
  return {
    root,
    home,
    project,
    managed,
    machine: { home, project, managed, env: { ...env }, now: NOW, useConfigDirEnv: true },
    async write(path, content, ageInDays) {
      const full = join(root, path);
      await mkdir(dirname(full), { recursive: true });
      await writeFile(
        full,
        typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content, null, 2),
      );
      if (ageInDays !== undefined) {
        const t = new Date(NOW.getTime() - ageInDays * DAY);
        await utimes(full, t, t);
      }
      return full;
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** Planted secrets: realistic shapes, never real. */
export const CANARY = {
  aws: 'AKIAQ3EGRFNW5XVZ7KLM',
  github: 'ghp_Zq8vR2mK7xT4pL9wN3bH6yC1dF5gJ0sA2eUo',
  anthropic:
    'sk-ant-api03-Wq7Xc2Vb9Nm4Lk8Jh3Gf6Ds1Ap5Oi0Uy7Tr2Ee9Wq4Zx8Cv3Bn6Mm1Kk5Jj0Hh7Gg2Ff9Dd4Ss8Aa3Qq6Ww1Ee5Rr0Tt7Yy2Uu9Ii4Oo-Pp8LlAA',
};

/** A tiny stand-in for the guard: enough rules to test the audit's plumbing without depending on the catalog. */
export const testInspector: Inspector = {
  scan(text, options) {
    const rules: [string, Detection['kind'], RegExp][] = [
      ['aws-access-key', 'secret', /AKIA[0-9A-Z]{16}/g],
      ['github-pat', 'secret', /ghp_[A-Za-z0-9]{36}/g],
      ['anthropic-api-key', 'secret', /sk-ant-api03-[A-Za-z0-9_-]{90,}/g],
      ['email', 'pii', /[a-z0-9._-]+@[a-z0-9-]+\.[a-z]{2,}/gi],
    ];
    const out: Detection[] = [];
    for (const [rule, kind, re] of rules) {
      if (options?.kinds && !options.kinds.includes(kind)) continue;
      for (const m of text.matchAll(re)) {
        out.push({ rule, kind, start: m.index, end: m.index + m[0].length, value: m[0] });
      }
    }
    return out;
  },
  mask: (value) => `${value.slice(0, 4)}…(${value.length})`,
};

const source = { seed: 'test', section: 'test', url: 'https://example.com' };

function flow(id: Flow['id'], enabled: boolean, destination: Flow['destination']): Flow {
  return {
    id,
    enabled,
    destination,
    trainingUse: 'no',
    retentionDays: enabled ? 30 : 0,
    unstated: [],
    data: enabled ? ['test'] : [],
    encryption: { inTransit: 'TLS', atRest: 'yes' },
    sources: [source],
    rules: [`test-${id}`],
    notes: [],
  };
}

/** A stand-in engine: telemetry and error reporting on for the Anthropic API unless an opt-out is set. */
export function testEvaluate(profile: Profile, at: string): ExplainResult {
  const env = profile.env ?? {};
  const off = (name: string) => Boolean(env[name]) || Boolean(env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC);
  const first = profile.provider === 'anthropic';
  return {
    profile,
    at,
    client: { version: profile.clientVersion ?? null },
    flows: [
      flow('inference', true, first ? 'anthropic' : 'aws-bedrock'),
      flow('telemetry', first && !off('DISABLE_TELEMETRY'), 'statsig'),
      flow('error-reporting', first && !off('DISABLE_ERROR_REPORTING'), 'sentry'),
      flow('local-transcripts', true, 'local-disk'),
    ],
    disabledFeatures: [],
    warnings: [],
    assumptions: [],
    notes: [],
    checks: [],
  };
}

export const testDeps: AuditDeps = { inspector: testInspector, evaluate: testEvaluate };
