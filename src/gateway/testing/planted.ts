/**
 * Fresh, random secrets of six kinds, as a project's `.env` would hold them, for end-to-end guard
 * tests: random each run, so no fixed value can pass by being allowlisted or cached.
 */
import { randomBytes } from 'node:crypto';

export interface Planted {
  rule: string;
  value: string;
}

function from(alphabet: string, length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Six secrets and the `.env` text that holds them (with a comment and a harmless setting). */
export function plantedEnv(): { secrets: Planted[]; env: string } {
  const secrets: Planted[] = [
    { rule: 'aws-access-key-id', value: 'AKIA' + from('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16) },
    { rule: 'aws-secret-access-key', value: from(ALNUM + '+/', 40) },
    { rule: 'github-pat', value: 'ghp_' + from(ALNUM, 36) },
    { rule: 'stripe-secret-key', value: 'sk_live_' + from(ALNUM, 32) },
    { rule: 'anthropic-api-key', value: 'sk-ant-api03-' + from(ALNUM + '-_', 93) + 'AA' },
    { rule: 'postgres-connection-string', value: from(ALNUM, 20) },
  ];
  const [aws, awsSecret, gh, stripe, anthropic, pg] = secrets.map((s) => s.value);
  const env = [
    '# local development settings',
    'NODE_ENV=development',
    `AWS_ACCESS_KEY_ID=${aws}`,
    `AWS_SECRET_ACCESS_KEY=${awsSecret}`,
    `GITHUB_TOKEN=${gh}`,
    `STRIPE_SECRET_KEY=${stripe}`,
    `ANTHROPIC_API_KEY=${anthropic}`,
    `DATABASE_URL=postgres://app:${pg}@db.internal:5432/app`,
    '',
  ].join('\n');
  return { secrets, env };
}
