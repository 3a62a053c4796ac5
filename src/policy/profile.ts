/** Validates an untrusted profile (a file, flags, an API body) into a Profile, naming each bad field. */
import { z } from 'zod';
import { dateProblem } from './facts.js';
import type { Plan, Profile, Provider } from './types.js';

export const PLANS: readonly Plan[] = ['free', 'pro', 'max', 'team', 'enterprise', 'api', 'gov'];
export const PROVIDERS: readonly Provider[] = ['anthropic', 'bedrock', 'vertex', 'foundry'];

const isoDate = z
  .string({ error: 'expected an ISO date like 2025-10-08' })
  .refine((v) => dateProblem(v) === undefined, { error: (iss) => dateProblem(String(iss.input)) });
const clientVersion = z
  .string({ error: 'expected a Claude Code version like 2.1.330 (claude --version)' })
  .regex(/^\d+\.\d+\.\d+$/, {
    error: (iss) =>
      `expected a Claude Code version like 2.1.330 (claude --version), got ${JSON.stringify(iss.input)}`,
  });
const oneOf = <T extends string>(values: readonly T[]) =>
  z.enum(values as [T, ...T[]], {
    error: (iss) =>
      iss.input === undefined
        ? `required; expected one of ${values.join(', ')}`
        : `expected one of ${values.join(', ')}, got ${JSON.stringify(iss.input)}`,
  });
const bool = z.boolean({ error: (iss) => `expected true or false, got ${JSON.stringify(iss.input)}` });

export const profileSchema = z.strictObject({
  plan: oneOf(PLANS),
  provider: oneOf(PROVIDERS),
  clientVersion: clientVersion.optional(),
  zdr: bool.optional(),
  trainingOptIn: bool.optional(),
  trainingSettingChangedAt: isoDate.optional(),
  trainingOptInBefore: bool.optional(),
  session: z.strictObject({ startedAt: isoDate.optional(), resumedAt: isoDate.optional() }).optional(),
  developmentPartnerProgram: bool.optional(),
  env: z.record(z.string(), z.string({ error: 'expected a string value (quote numbers: "1")' })).optional(),
  settings: z.record(z.string(), z.unknown()).optional(),
  mcpServers: z.array(z.string({ error: 'expected a server name (string)' })).optional(),
  at: isoDate.optional(),
});

/** A profile that failed validation; `issues` are `field: what was expected` lines. */
export class ProfileError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid profile\n${issues.map((i) => `  ${i}`).join('\n')}`);
    this.name = 'ProfileError';
  }
}

function describe(issue: z.core.$ZodIssue): string {
  const field = issue.path.map(String).join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    const at = issue.path.length ? `${field}.` : '';
    return issue.keys.map((k) => `${at}${k}: unknown field`).join('\n  ');
  }
  if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input')) {
    return `${field}: expected ${issue.expected === 'object' ? 'an object' : issue.expected}`;
  }
  return `${field}: ${issue.message}`;
}

/** Parses `input` into a Profile or throws ProfileError listing every bad field. */
export function parseProfile(input: unknown): Profile {
  const parsed = profileSchema.safeParse(input);
  if (!parsed.success) throw new ProfileError(parsed.error.issues.map(describe));
  return parsed.data as Profile;
}
