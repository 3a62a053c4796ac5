/**
 * Builds the guard's evaluation corpus, test/fixtures/corpus/: files of the kinds that reach a
 * model in a coding session (code, configs, logs, shell history, Claude Code transcripts), with
 * planted secrets and personal data and, beside them, look-alikes real repositories are full of
 * (placeholders, documented examples, hashes, UUIDs, SHAs, versions, identifiers). Every planted
 * value is generated here from a seeded PRNG in the provider's published format: none is real.
 * labels.json records each planted value (file, line, rule, kind) and each look-alike (negative).
 *
 * Run: node --import tsx bench/guard/make-corpus.ts
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { luhnCheckDigit, withIbanCheckDigits } from '../../src/guard/checksums.js';
import { prng } from './source-text.js';

export const CORPUS_DIR = 'test/fixtures/corpus';

export interface Label {
  file: string;
  /** 1-based. */
  line: number;
  /** The rule expected to report it; absent for a look-alike. */
  rule?: string;
  kind: 'secret' | 'pii' | 'negative';
  /** For a look-alike: what it is. */
  what?: string;
}

const rand = prng(20260101);
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
const HEX = '0123456789abcdef';
const B64 = ALNUM + '+/';
const URLSAFE = ALNUM + '-_';
const s = (alphabet: string, n: number): string =>
  Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const one = (xs: string[]): string => xs[int(0, xs.length - 1)] as string;
const b64 = (text: string): string => Buffer.from(text).toString('base64');
const b64url = (text: string): string => Buffer.from(text).toString('base64url');

/** A generated value in each provider's format, by rule id. */
const gen: Record<string, () => string> = {
  'aws-access-key-id': () => 'AKIA' + s(UPPER + '234567', 16),
  'aws-secret-access-key': () => s(B64, 40),
  'gcp-api-key': () => 'AIza' + s(URLSAFE, 35),
  'azure-storage-account-key': () => s(B64, 86) + '==',
  'azure-shared-access-key': () => s(B64, 43) + '=',
  'azure-ad-client-secret': () => s(ALNUM, 3) + int(0, 9) + 'Q~' + s(ALNUM + '_.-', 34),
  'alibaba-access-key-id': () => 'LTAI' + s(ALNUM, 20),
  'digitalocean-pat': () => 'dop_v1_' + s(HEX, 64),
  'heroku-api-key-v2': () => 'HRKU-AA' + s(URLSAFE, 58),
  'anthropic-api-key': () => 'sk-ant-api03-' + s(URLSAFE, 93) + 'AA',
  'anthropic-admin-key': () => 'sk-ant-admin01-' + s(URLSAFE, 93) + 'AA',
  'openai-project-key': () => 'sk-proj-' + s(URLSAFE, 74) + 'T3BlbkFJ' + s(URLSAFE, 74),
  'openai-api-key': () => 'sk-' + s(ALNUM, 20) + 'T3BlbkFJ' + s(ALNUM, 20),
  'huggingface-token': () => 'hf_' + s(ALNUM, 34),
  'groq-api-key': () => 'gsk_' + s(ALNUM, 52),
  'replicate-api-token': () => 'r8_' + s(ALNUM, 37),
  'perplexity-api-key': () => 'pplx-' + s(ALNUM, 48),
  'xai-api-key': () => 'xai-' + s(ALNUM, 80),
  'langsmith-api-key': () => 'lsv2_pt_' + s(HEX, 32) + '_' + s(HEX, 10),
  'openrouter-api-key': () => 'sk-or-v1-' + s(HEX, 64),
  'github-pat': () => 'ghp_' + s(ALNUM, 36),
  'github-oauth-token': () => 'gho_' + s(ALNUM, 36),
  'github-server-to-server-token': () => 'ghs_' + s(ALNUM, 36),
  'github-fine-grained-pat': () => 'github_pat_' + s(ALNUM, 22) + '_' + s(ALNUM, 59),
  'gitlab-pat': () => 'glpat-' + s(URLSAFE, 20),
  'gitlab-runner-token': () => 'glrt-' + s(URLSAFE, 20),
  'slack-bot-token': () => `xoxb-${s(DIGITS, 12)}-${s(DIGITS, 13)}-${s(ALNUM, 24)}`,
  'slack-user-token': () => `xoxp-${s(DIGITS, 12)}-${s(DIGITS, 12)}-${s(DIGITS, 13)}-${s(HEX, 32)}`,
  'slack-webhook-url': () =>
    `https://hooks.slack.com/services/T${s(UPPER + DIGITS, 8)}/B${s(UPPER + DIGITS, 10)}/${s(ALNUM, 24)}`,
  'discord-webhook-url': () => `https://discord.com/api/webhooks/${s(DIGITS, 18)}/${s(URLSAFE, 68)}`,
  'telegram-bot-token': () => `${int(1, 9)}${s(DIGITS, 9)}:AA${s(URLSAFE, 33)}`,
  'sendgrid-api-key': () => `SG.${s(URLSAFE, 22)}.${s(URLSAFE, 43)}`,
  'mailgun-api-key': () => 'key-' + s(HEX, 32),
  'mailchimp-api-key': () => s(HEX, 32) + '-us' + int(1, 21),
  'brevo-api-key': () => `xkeysib-${s(HEX, 64)}-${s(ALNUM, 16)}`,
  'twilio-account-sid': () => 'AC' + s(HEX, 32),
  'twilio-api-key': () => 'SK' + s(HEX, 32),
  'twilio-auth-token': () => s(HEX, 32),
  'stripe-secret-key': () => 'sk_live_' + s(ALNUM, 99),
  'stripe-restricted-key': () => 'rk_live_' + s(ALNUM, 99),
  'stripe-webhook-secret': () => 'whsec_' + s(ALNUM, 32),
  'square-access-token': () => 'EAAA' + s(URLSAFE, 60),
  'shopify-access-token': () => 'shpat_' + s(HEX, 32),
  'npm-access-token': () => 'npm_' + s(ALNUM, 36),
  'pypi-upload-token': () => 'pypi-AgEIcHlwaS5vcmc' + s(URLSAFE, 70),
  'dockerhub-pat': () => 'dckr_pat_' + s(URLSAFE, 27),
  'datadog-api-key': () => s(HEX, 32),
  'newrelic-user-api-key': () => 'NRAK-' + s(UPPER + DIGITS, 27),
  'sentry-dsn': () => `https://${s(HEX, 32)}@o${s(DIGITS, 6)}.ingest.sentry.io/${s(DIGITS, 7)}`,
  'grafana-service-account-token': () => `glsa_${s(ALNUM, 32)}_${s(HEX, 8)}`,
  'vercel-token': () => s(ALNUM, 24),
  'supabase-pat': () => 'sbp_' + s(HEX, 40),
  'databricks-token': () => 'dapi' + s(HEX, 32),
  'planetscale-token': () => 'pscale_pw_' + s(URLSAFE, 43),
  'linear-api-key': () => 'lin_api_' + s(ALNUM, 40),
  'notion-integration-token': () => 'ntn_' + s(DIGITS, 11) + s(ALNUM, 35),
  'airtable-pat': () => `pat${s(ALNUM, 14)}.${s(HEX, 64)}`,
  'figma-pat': () => 'figd_' + s(URLSAFE, 40),
  'postman-api-key': () => `PMAK-${s(HEX, 24)}-${s(HEX, 34)}`,
  'vault-service-token': () => 'hvs.' + s(URLSAFE, 90),
  'doppler-token': () => 'dp.st.prd.' + s(ALNUM, 43),
  'pulumi-access-token': () => 'pul-' + s(HEX, 40),
  'age-secret-key': () => 'AGE-SECRET-KEY-1' + s('QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L', 58),
  'tailscale-key': () => `tskey-auth-${s(ALNUM, 12)}-${s(ALNUM, 33)}`,
  jwt: () =>
    `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(`{"sub":"${s(DIGITS, 8)}","name":"svc","iat":${s(DIGITS, 10)}}`)}.${s(URLSAFE, 43)}`,
  password: () => s(ALNUM, int(10, 16)) + s('!#%&*+', 1) + s(DIGITS, 2),
  /** A password as it appears in a URL's user-info: `#`, `/`, `?`, `@` would have to be %-encoded. */
  urlPassword: () => s(ALNUM, int(10, 16)) + s('!&*+~.-_', 1) + s(DIGITS, 2),
  'generic-token': () => s(URLSAFE, 40),
  'generic-secret': () => s(URLSAFE, 48),
  'generic-api-key': () => s(ALNUM, 32),
  'http-bearer-token': () => s(URLSAFE, 48),
};

/** A card number with a known issuer prefix and a valid Luhn digit. */
function card(prefix: string, length: number): string {
  const body = prefix + s(DIGITS, length - prefix.length - 1);
  return body + luhnCheckDigit(body);
}
const FIRST = ['Maria', 'Jonas', 'Aiko', 'Samuel', 'Leila', 'Tomasz', 'Priya', 'Diego', 'Ingrid', 'Kwame'];
const LAST = ['Schmidt', 'Okafor', 'Tanaka', 'Rossi', 'Haddad', 'Nowak', 'Iyer', 'Alvarez', 'Berg', 'Mensah'];
const DOMAINS = ['fabrikam.de', 'northwind-traders.com', 'contoso.io', 'tailspin.co.uk', 'wingtip.net'];
const pii = {
  email: () =>
    `${(FIRST[int(0, 9)] as string).toLowerCase()}.${(LAST[int(0, 9)] as string).toLowerCase()}@${DOMAINS[int(0, 4)]}`,
  phone: () => `+1 ${int(2, 9)}${s(DIGITS, 2)} ${int(2, 9)}${s(DIGITS, 2)} ${s(DIGITS, 4)}`,
  'credit-card': () => [card('4', 16), card('54', 16), card('37', 15)][int(0, 2)] as string,
  iban: () => withIbanCheckDigits('DE00' + s(DIGITS, 18)),
  'us-ssn': () => `${int(100, 665)}-${int(10, 99)}-${int(1000, 9999)}`,
};
const name = (): string => `${FIRST[int(0, 9)]} ${LAST[int(0, 9)]}`;

/** Look-alikes: values real code is full of that are not secrets. */
const look = {
  uuid: () => `${s(HEX, 8)}-${s(HEX, 4)}-4${s(HEX, 3)}-a${s(HEX, 3)}-${s(HEX, 12)}`,
  sha: () => s(HEX, 40),
  sha256: () => s(HEX, 64),
  integrity: () => 'sha512-' + s(B64, 86) + '==',
  version: () => `${int(0, 9)}.${int(0, 30)}.${int(0, 20)}`,
  ident: () =>
    one(['handle', 'resolve', 'compute', 'serialize']) +
    one(['Access', 'Refresh', 'Session', 'Api']) +
    one(['Token', 'Key', 'Secret', 'Password']) +
    one(['ForTenant', 'FromHeader', 'WithRetry', 'Expiry']),
  blob: () => s(B64, 120),
  epoch: () => String(1_700_000_000 + int(0, 99_999_999)),
  orderId: () => `ORD-${s(DIGITS, 10)}`,
  digest: () => 'sha256:' + s(HEX, 64),
  awsAccount: () => s(DIGITS, 12),
};

const files = new Map<string, string[]>();
const labels: Label[] = [];

/** Appends lines to `file`; returns the 1-based number of the first. */
function add(file: string, ...lines: string[]): number {
  const list = files.get(file) ?? [];
  files.set(file, list);
  list.push(...lines.flatMap((l) => l.split('\n')));
  return list.length - lines.flatMap((l) => l.split('\n')).length + 1;
}
function plant(file: string, line: string, rule: string, kind: 'secret' | 'pii' = 'secret'): void {
  labels.push({ file, line: add(file, line), rule, kind });
}
function decoy(file: string, line: string, what: string): void {
  labels.push({ file, line: add(file, line), kind: 'negative', what });
}
const v = (rule: string): string => (gen[rule] as () => string)();

// --- .env files -------------------------------------------------------------------------------
{
  const f = 'app/.env';
  add(
    f,
    '# Local development settings. Do not commit.',
    'NODE_ENV=development',
    'PORT=3000',
    'LOG_LEVEL=debug',
    '',
  );
  const envPlants: [string, string][] = [
    ['AWS_ACCESS_KEY_ID', 'aws-access-key-id'],
    ['ANTHROPIC_API_KEY', 'anthropic-api-key'],
    ['OPENAI_API_KEY', 'openai-project-key'],
    ['GITHUB_TOKEN', 'github-pat'],
    ['STRIPE_SECRET_KEY', 'stripe-secret-key'],
    ['STRIPE_WEBHOOK_SECRET', 'stripe-webhook-secret'],
    ['SENDGRID_API_KEY', 'sendgrid-api-key'],
    ['SLACK_BOT_TOKEN', 'slack-bot-token'],
    ['TWILIO_ACCOUNT_SID', 'twilio-account-sid'],
    ['HF_TOKEN', 'huggingface-token'],
    ['NPM_TOKEN', 'npm-access-token'],
    ['GROQ_API_KEY', 'groq-api-key'],
  ];
  for (const [key, rule] of envPlants) plant(f, `${key}=${v(rule)}`, rule);
  plant(f, `AWS_SECRET_ACCESS_KEY=${v('aws-secret-access-key')}`, 'aws-secret-access-key');
  plant(f, `TWILIO_AUTH_TOKEN=${v('twilio-auth-token')}`, 'twilio-auth-token');
  plant(f, `DATADOG_API_KEY=${v('datadog-api-key')}`, 'datadog-api-key');
  plant(f, `VERCEL_TOKEN=${v('vercel-token')}`, 'vercel-token');
  plant(
    f,
    `DATABASE_URL=postgres://app:${v('urlPassword')}@db.internal:5432/app`,
    'postgres-connection-string',
  );
  plant(f, `REDIS_URL=rediss://default:${v('urlPassword')}@cache.internal:6380/0`, 'redis-connection-string');
  plant(f, `SESSION_SECRET=${v('generic-secret')}`, 'generic-secret');
  plant(f, `ADMIN_EMAIL=${pii.email()}`, 'email', 'pii');
  decoy(f, 'API_BASE_URL=https://api.internal.test/v2', 'URL without credentials');
  decoy(f, 'TOKEN_TTL_SECONDS=3600', 'setting named token');
  decoy(f, 'FEATURE_FLAGS_ID=' + look.uuid(), 'UUID');
  add(f, '');
}
{
  const f = 'app/.env.example';
  add(f, '# Copy to .env and fill in.');
  decoy(f, 'ANTHROPIC_API_KEY=<your-anthropic-key>', 'placeholder');
  decoy(f, 'OPENAI_API_KEY=sk-...', 'placeholder');
  decoy(f, 'GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'placeholder');
  decoy(f, 'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE', 'documented example');
  decoy(f, 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'documented example');
  decoy(f, 'DATABASE_URL=postgres://app:${DB_PASSWORD}@localhost:5432/app', 'template variable');
  decoy(f, 'STRIPE_SECRET_KEY=', 'empty');
  decoy(f, 'SESSION_SECRET=changeme', 'placeholder');
  decoy(f, 'SMTP_PASSWORD=your_password_here', 'placeholder');
}

// --- YAML, JSON, TOML, INI, docker-compose, Kubernetes, Terraform -------------------------------
{
  const f = 'config/settings.yaml';
  add(f, 'server:', '  host: 0.0.0.0', '  port: 8080', `  build: "${look.sha()}"`, 'database:');
  plant(
    f,
    `  url: mysql://billing:${v('urlPassword')}@mysql.prod.internal:3306/billing`,
    'mysql-connection-string',
  );
  add(f, '  pool: 20', 'integrations:', '  sentry:');
  plant(f, `    dsn: ${v('sentry-dsn')}`, 'sentry-dsn');
  add(f, '  slack:');
  plant(f, `    webhook: ${v('slack-webhook-url')}`, 'slack-webhook-url');
  add(f, '  mailgun:');
  plant(f, `    api_key: ${v('mailgun-api-key')}`, 'mailgun-api-key');
  add(f, '  datadog:');
  plant(f, `    dd_api_key: ${v('datadog-api-key')}`, 'datadog-api-key');
  add(f, '  linear:');
  plant(f, `    token: ${v('linear-api-key')}`, 'linear-api-key');
  add(f, 'auth:');
  plant(f, `  jwt_secret: ${v('generic-secret')}`, 'generic-secret');
  decoy(f, '  token_expiry: 15m', 'setting named token');
  decoy(f, `  password_min_length: 12`, 'setting named password');
  decoy(f, `  client_id: ${look.uuid()}`, 'UUID');
  decoy(f, `  secret_name: prod/payments/stripe`, 'secret reference');
  add(f, 'support:');
  plant(f, `  escalation_phone: "${pii.phone()}"`, 'phone', 'pii');
}
{
  const f = 'config/app.json';
  add(f, '{', '  "name": "billing-service",');
  decoy(f, `  "version": "${look.version()}",`, 'version');
  decoy(f, `  "commit": "${look.sha()}",`, 'git SHA');
  add(f, '  "providers": {');
  plant(f, `    "openrouter": { "apiKey": "${v('openrouter-api-key')}" },`, 'openrouter-api-key');
  plant(f, `    "perplexity": { "apiKey": "${v('perplexity-api-key')}" },`, 'perplexity-api-key');
  plant(f, `    "replicate": { "token": "${v('replicate-api-token')}" },`, 'replicate-api-token');
  plant(f, `    "xai": { "apiKey": "${v('xai-api-key')}" },`, 'xai-api-key');
  plant(f, `    "langsmith": { "apiKey": "${v('langsmith-api-key')}" },`, 'langsmith-api-key');
  plant(f, `    "mailchimp": { "apiKey": "${v('mailchimp-api-key')}" },`, 'mailchimp-api-key');
  plant(f, `    "brevo": { "apiKey": "${v('brevo-api-key')}" },`, 'brevo-api-key');
  plant(f, `    "postman": { "apiKey": "${v('postman-api-key')}" },`, 'postman-api-key');
  decoy(
    f,
    `    "analytics": { "writeKeyRef": "vault:analytics/write-key", "id": "${look.uuid()}" },`,
    'reference',
  );
  decoy(f, `    "cdn": { "etag": "${look.sha256()}" }`, 'hash');
  add(f, '  },');
  decoy(f, `  "integrity": "${look.integrity()}",`, 'integrity hash');
  plant(f, `  "owner": "${pii.email()}"`, 'email', 'pii');
  add(f, '}');
}
{
  const f = 'config/service-account.json';
  const pem = `-----BEGIN PRIVATE KEY-----\\n${Array.from({ length: 16 }, () => s(B64, 64)).join('\\n')}\\n-----END PRIVATE KEY-----\\n`;
  add(f, '{', '  "type": "service_account",', '  "project_id": "billing-prod-381200",');
  decoy(f, `  "private_key_id": "${look.sha()}",`, 'key id (hex)');
  plant(f, `  "private_key": "${pem}",`, 'gcp-service-account-key');
  plant(f, '  "client_email": "billing@billing-prod-381200.iam.gserviceaccount.com",', 'email', 'pii');
  decoy(f, `  "client_id": "${s(DIGITS, 21)}",`, 'numeric client id');
  add(f, '  "token_uri": "https://oauth2.googleapis.com/token"', '}');
}
{
  const f = 'config/deploy.toml';
  add(f, '[app]', 'name = "web"', 'region = "fra"', '');
  add(f, '[deploy.secrets]');
  plant(f, `fly_api_token = "${v('tailscale-key')}"`, 'tailscale-key');
  plant(f, `doppler_token = "${v('doppler-token')}"`, 'doppler-token');
  plant(f, `pulumi_token = "${v('pulumi-access-token')}"`, 'pulumi-access-token');
  plant(f, `databricks_token = "${v('databricks-token')}"`, 'databricks-token');
  plant(f, `planetscale_password = "${v('planetscale-token')}"`, 'planetscale-token');
  add(f, '', '[build]');
  decoy(f, `image_digest = "${look.digest()}"`, 'image digest');
  decoy(f, `cache_key = "${look.sha256()}"`, 'hash');
  decoy(f, 'token_header = "X-Request-Token"', 'setting named token');
}
{
  const f = 'config/legacy.ini';
  add(f, '[database]', 'host = db01.corp.local', 'port = 5432', 'user = reporting');
  plant(f, `password = ${v('password')}`, 'generic-password');
  add(f, '', '[ldap]', 'bind_dn = cn=svc-reports,ou=service,dc=corp,dc=local');
  plant(f, `bind_password = ${v('password')}`, 'generic-password');
  add(f, '', '[smtp]', 'server = smtp.corp.local');
  decoy(f, 'password_file = /etc/reports/smtp.pass', 'path to a password file');
  decoy(f, 'password = ${SMTP_PASSWORD}', 'template variable');
}
{
  const f = 'docker-compose.yml';
  add(f, 'services:', '  db:', '    image: postgres:16', '    environment:', '      POSTGRES_USER: app');
  plant(f, `      POSTGRES_PASSWORD: ${v('password')}`, 'generic-password');
  add(f, '  queue:', '    image: rabbitmq:3-management', '    environment:');
  plant(f, `      RABBITMQ_URL: amqp://app:${v('urlPassword')}@queue:5672/`, 'amqp-connection-string');
  add(f, '  api:', '    build: .', '    environment:');
  plant(
    f,
    `      MONGO_URL: mongodb+srv://api:${v('urlPassword')}@cluster0.mongodb.net/api`,
    'mongodb-connection-string',
  );
  plant(f, `      GITLAB_TOKEN: ${v('gitlab-pat')}`, 'gitlab-pat');
  plant(f, `      FIGMA_TOKEN: ${v('figma-pat')}`, 'figma-pat');
  decoy(f, '      DB_PASSWORD: ${DB_PASSWORD:?set it}', 'template variable');
  decoy(f, '      API_KEY_FILE: /run/secrets/api_key', 'path');
  decoy(f, `    image: registry.internal/api@${look.digest()}`, 'image digest');
}
{
  const f = 'k8s/secrets.yaml';
  add(
    f,
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    '  name: payments',
    '  namespace: prod',
    'type: Opaque',
    'stringData:',
  );
  plant(f, `  SQUARE_ACCESS_TOKEN: ${v('square-access-token')}`, 'square-access-token');
  plant(f, `  SHOPIFY_ACCESS_TOKEN: ${v('shopify-access-token')}`, 'shopify-access-token');
  plant(
    f,
    `  AZURE_STORAGE: DefaultEndpointsProtocol=https;AccountName=billingprod;AccountKey=${v('azure-storage-account-key')};EndpointSuffix=core.windows.net`,
    'azure-storage-account-key',
  );
  plant(
    f,
    `  SERVICEBUS: Endpoint=sb://billing.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${v('azure-shared-access-key')}`,
    'azure-shared-access-key',
  );
  plant(f, `  AZURE_CLIENT_SECRET: ${v('azure-ad-client-secret')}`, 'azure-ad-client-secret');
  add(
    f,
    '---',
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: payments',
    'spec:',
    '  template:',
    '    metadata:',
    '      annotations:',
  );
  decoy(f, `        checksum/config: ${look.sha256()}`, 'hash');
  decoy(
    f,
    `        kubectl.kubernetes.io/restartedAt: "2025-03-0${int(1, 9)}T10:1${int(0, 9)}:00Z"`,
    'timestamp',
  );
}
{
  const f = 'infra/main.tf';
  add(f, 'provider "aws" {', '  region = "eu-central-1"');
  plant(f, `  access_key = "${v('aws-access-key-id')}"`, 'aws-access-key-id');
  plant(f, `  secret_key = "${v('aws-secret-access-key')}"`, 'generic-secret');
  add(f, '}', '', 'provider "digitalocean" {');
  plant(f, `  token = "${v('digitalocean-pat')}"`, 'digitalocean-pat');
  add(f, '}', '', 'provider "alicloud" {');
  plant(f, `  access_key = "${v('alibaba-access-key-id')}"`, 'alibaba-access-key-id');
  add(f, '}', '', 'resource "aws_iam_role" "ci" {', '  name = "ci"');
  decoy(
    f,
    `  assume_role_policy = data.aws_iam_policy_document.ci.json # account ${look.awsAccount()}`,
    'AWS account id',
  );
  add(f, '}', '', 'variable "db_password" {', '  type      = string', '  sensitive = true', '}');
  decoy(f, 'resource "random_password" "db" { length = 32 }', 'resource named password');
  decoy(f, '  password = var.db_password', 'variable reference');
}

// --- code ---------------------------------------------------------------------------------------
{
  const f = 'src/clients.ts';
  // A fragment, not a module of this repository: keep the compiler and linter out of it.
  add(f, '/* eslint-disable */', '// @ts-nocheck');
  add(f, "import Anthropic from '@anthropic-ai/sdk';", "import { WebClient } from '@slack/web-api';", '');
  decoy(f, "/** @param token the caller's bearer token, checked against the session store. */", 'JSDoc');
  decoy(f, 'export async function refreshAccessToken(token: string): Promise<string> {', 'identifier');
  add(
    f,
    "  const res = await fetch('/oauth/token', { method: 'POST', body: token });",
    '  return (await res.json()).access_token;',
    '}',
    '',
  );
  plant(f, `const anthropic = new Anthropic({ apiKey: '${v('anthropic-api-key')}' });`, 'anthropic-api-key');
  plant(f, `const slack = new WebClient('${v('slack-user-token')}');`, 'slack-user-token');
  plant(f, `const DISCORD_HOOK = '${v('discord-webhook-url')}';`, 'discord-webhook-url');
  plant(f, `const telegram = new Telegraf('${v('telegram-bot-token')}');`, 'telegram-bot-token');
  plant(
    f,
    `const init = { headers: { Authorization: 'Bearer ${v('http-bearer-token')}' } };`,
    'http-bearer-token',
  );
  plant(f, `const supabase = createClient(url, '${v('supabase-pat')}');`, 'supabase-pat');
  plant(f, `const airtable = new Airtable({ apiKey: '${v('airtable-pat')}' });`, 'airtable-pat');
  plant(
    f,
    `const notion = new Client({ auth: '${v('notion-integration-token')}' });`,
    'notion-integration-token',
  );
  decoy(f, `const ${look.ident()} = process.env.API_TOKEN ?? '';`, 'environment lookup');
  decoy(f, `const apiKey = import.meta.env.VITE_API_KEY;`, 'environment lookup');
  decoy(f, `export const SCHEMA_VERSION = '${look.version()}';`, 'version');
  decoy(f, `const requestId = '${look.uuid()}';`, 'UUID');
  decoy(f, `  expect(hash).toBe('${look.sha256()}');`, 'hash in a test');
  decoy(f, `  const tokenCount = encode(text).length; // ${look.epoch()}`, 'identifier and number');
  decoy(f, "const stripePublishableKey = 'pk_live_" + s(ALNUM, 24) + "';", 'publishable (public) key');
  decoy(f, 'const signup = z.object({ password: z.string().min(12).max(128) });', 'schema field');
  decoy(f, "  if (user.password !== confirmPassword) throw new ValidationError('passwords differ');", 'code');
  decoy(f, '// see https://github.com/acme/billing/commit/' + look.sha(), 'URL with SHA');
  decoy(f, `const ORDER = '${look.orderId()}';`, 'order id');
  decoy(f, `const avatar = 'data:image/png;base64,${look.blob()}';`, 'base64 blob');
}
{
  const f = 'src/db.py';
  add(f, 'import os', 'import psycopg', 'from redis import Redis', '');
  plant(
    f,
    `DATABASE_URL = "postgresql://etl:${v('urlPassword')}@warehouse.internal:5432/analytics"`,
    'postgres-connection-string',
  );
  plant(f, `HUGGINGFACE_TOKEN = "${v('huggingface-token')}"`, 'huggingface-token');
  plant(f, `openai.api_key = "${v('openai-api-key')}"`, 'openai-api-key');
  plant(f, `SENDGRID_KEY = "${v('sendgrid-api-key')}"`, 'sendgrid-api-key');
  plant(f, `client = Client("${v('twilio-api-key')}", os.environ["TWILIO_SECRET"])`, 'twilio-api-key');
  plant(f, `sk = "${v('stripe-restricted-key')}"`, 'stripe-restricted-key');
  plant(f, `API_KEY = "${v('generic-api-key')}"`, 'generic-api-key');
  decoy(f, 'SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]', 'environment lookup');
  decoy(f, 'password = os.getenv("PGPASSWORD")', 'environment lookup');
  decoy(f, `    password_hash = "$2b$12$${s(ALNUM + './', 53)}"`, 'bcrypt hash');
  decoy(f, `MIGRATION_ID = "${s(HEX, 12)}"`, 'Alembic revision');
  decoy(f, `assert md5(data).hexdigest() == "${s(HEX, 32)}"`, 'hash');
  decoy(f, `    def test_login(self): self.client.login(username="alice", password="test")`, 'test fixture');
}
{
  const f = 'cmd/server/main.go';
  add(f, 'package main', '', 'import (', '\t"context"', '\t"os"', ')', '');
  plant(f, `const githubAppToken = "${v('github-server-to-server-token')}"`, 'github-server-to-server-token');
  plant(f, `var oauthToken = "${v('github-oauth-token')}"`, 'github-oauth-token');
  plant(f, `const gcpKey = "${v('gcp-api-key')}"`, 'gcp-api-key');
  plant(f, `const vaultToken = "${v('vault-service-token')}"`, 'vault-service-token');
  plant(
    f,
    `dsn := "sqlserver://sa:${v('urlPassword')}@mssql.internal:1433?database=orders"`,
    'mssql-connection-string',
  );
  decoy(f, '\ttoken := os.Getenv("GITHUB_TOKEN")', 'environment lookup');
  decoy(f, `\t// ${look.ident()} refreshes before expiry`, 'identifier');
  decoy(f, `\tconst buildID = "${look.sha()}"`, 'git SHA');
  decoy(f, `\tvar traceID = "${s(HEX, 32)}"`, 'trace id');
}
{
  const f = 'src/main/java/com/acme/billing/Config.java';
  add(f, 'package com.acme.billing;', '', 'public final class Config {');
  plant(
    f,
    `    static final String NEW_RELIC_KEY = "${v('newrelic-user-api-key')}";`,
    'newrelic-user-api-key',
  );
  plant(
    f,
    `    static final String GRAFANA_TOKEN = "${v('grafana-service-account-token')}";`,
    'grafana-service-account-token',
  );
  plant(f, `    static final String DOCKER_PAT = "${v('dockerhub-pat')}";`, 'dockerhub-pat');
  plant(f, `    static final String HEROKU_KEY = "${v('heroku-api-key-v2')}";`, 'heroku-api-key-v2');
  plant(f, `    static final String JWT = "${v('jwt')}";`, 'jwt');
  decoy(f, '    static final String PASSWORD_PARAM = "password";', 'constant naming a field');
  decoy(f, `    static final long SERIAL_VERSION = ${s(DIGITS, 18)}L;`, 'long number');
  decoy(f, `    static final String SCHEMA_ID = "${look.uuid()}";`, 'UUID');
  add(f, '}');
}
{
  const f = 'deploy/keys/deploy_ed25519';
  const block = [
    '-----BEGIN OPENSSH PRIVATE KEY-----',
    ...Array.from({ length: 5 }, () => s(B64, 70)),
    '-----END OPENSSH PRIVATE KEY-----',
  ];
  labels.push({ file: f, line: add(f, ...block), rule: 'private-key', kind: 'secret' });
}
{
  const f = 'deploy/keys/README.md';
  add(f, '# Deploy keys', '');
  decoy(f, 'Public key: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI' + s(B64, 43) + ' deploy@ci`', 'public key');
  decoy(f, 'Fingerprint: `SHA256:' + s(B64, 43) + '`', 'fingerprint');
  decoy(
    f,
    'Rotate with `ssh-keygen -t ed25519 -f deploy_ed25519 -N ""` and paste -----BEGIN ... into the vault.',
    'prose',
  );
}

// --- logs, shell history, CSV -----------------------------------------------------------------
{
  const f = 'logs/api.log';
  for (let i = 0; i < 30; i++) {
    const ts = `2025-05-1${int(0, 9)}T0${int(0, 9)}:${int(10, 59)}:${int(10, 59)}.${s(DIGITS, 3)}Z`;
    const kind = i % 6;
    if (kind === 0)
      plant(
        f,
        `${ts} INFO  login ok user=${pii.email()} ip=10.0.${int(0, 255)}.${int(1, 254)}`,
        'email',
        'pii',
      );
    else if (kind === 1)
      plant(
        f,
        `${ts} DEBUG outbound GET /v1/charges headers={"authorization":"Bearer ${v('http-bearer-token')}"}`,
        'http-bearer-token',
      );
    else if (kind === 2)
      decoy(f, `${ts} INFO  request_id=${look.uuid()} status=200 duration_ms=${int(3, 900)}`, 'request log');
    else if (kind === 3)
      decoy(
        f,
        `${ts} WARN  retrying job ${look.orderId()} attempt=${int(1, 5)} after ${int(100, 5000)}ms`,
        'ids and numbers',
      );
    else if (kind === 4)
      decoy(
        f,
        `${ts} INFO  deployed ${look.sha().slice(0, 12)} version=${look.version()} pid=${int(1000, 65000)}`,
        'SHA and version',
      );
    else
      plant(
        f,
        `${ts} ERROR payment declined card=${pii['credit-card']()} customer="${name()}"`,
        'credit-card',
        'pii',
      );
  }
  plant(
    f,
    `2025-05-19T11:02:33.120Z DEBUG webhook verified secret=${v('stripe-webhook-secret')}`,
    'stripe-webhook-secret',
  );
  decoy(
    f,
    `2025-05-19T11:02:34.000Z INFO  token refreshed expires_at=${look.epoch()}`,
    'log line naming a token',
  );
}
{
  const f = 'shell/.bash_history';
  add(f, 'cd ~/src/billing', 'git pull --rebase', 'npm ci');
  plant(f, `export OPENAI_API_KEY=${v('openai-project-key')}`, 'openai-project-key');
  plant(
    f,
    `curl -H "Authorization: Bearer ${v('anthropic-admin-key')}" https://api.anthropic.com/v1/organizations/users`,
    'anthropic-admin-key',
  );
  plant(f, `git clone https://deploy:${v('urlPassword')}@git.acme.io/platform/infra.git`, 'url-credentials');
  plant(f, `mysql -u root --password=${v('password')} billing < dump.sql`, 'generic-password');
  plant(f, `curl -u admin:${v('password')} https://jenkins.acme.io/job/deploy/build`, 'cli-user-password');
  plant(f, `npm config set //registry.npmjs.org/:_authToken ${v('npm-access-token')}`, 'npm-access-token');
  plant(f, `twine upload -u __token__ -p ${v('pypi-upload-token')} dist/*`, 'pypi-upload-token');
  plant(f, `age -d -i <(echo ${v('age-secret-key')}) backup.age > backup.tar`, 'age-secret-key');
  plant(f, `gh auth login --with-token <<< ${v('github-fine-grained-pat')}`, 'github-fine-grained-pat');
  plant(f, `export GITLAB_RUNNER_TOKEN=${v('gitlab-runner-token')}`, 'gitlab-runner-token');
  plant(
    f,
    `curl -H "Authorization: Basic ${b64(`ci:${v('password')}`)}" https://nexus.acme.io/repository/`,
    'http-basic-auth',
  );
  decoy(f, 'git log --oneline ' + look.sha().slice(0, 7) + '..HEAD', 'short SHA');
  decoy(f, 'docker pull registry.internal/api@' + look.digest(), 'image digest');
  decoy(f, 'export API_TOKEN=$(vault kv get -field=token secret/ci)', 'command substitution');
  decoy(f, 'kubectl get secret payments -o jsonpath="{.data.password}" | base64 -d', 'command');
  decoy(f, 'ssh -i ~/.ssh/id_ed25519 deploy@10.0.3.12', 'ssh command');
}
{
  const f = 'data/customers.csv';
  add(f, 'id,name,email,phone,iban,ssn,card,created_at');
  for (let i = 0; i < 10; i++) {
    const line = `${1000 + i},${name()},${pii.email()},${pii.phone()},${pii.iban()},${pii['us-ssn']()},${pii['credit-card']()},2024-0${int(1, 9)}-1${int(0, 9)}`;
    const at = add(f, line);
    for (const rule of ['email', 'phone', 'iban', 'us-ssn', 'credit-card'])
      labels.push({ file: f, line: at, rule, kind: 'pii' });
  }
  decoy(
    f,
    `9999,Test User,user@example.com,555-0100,DE00 0000 0000 0000 0000 00,000-00-0000,4111 1111 1111 1111,2024-01-01`,
    'documented test data',
  );
  decoy(
    f,
    `9998,Load Test,loadtest@example.org,+1 2024,n/a,n/a,${s(DIGITS, 16)},2024-01-02`,
    'invalid numbers',
  );
}

// --- Claude Code transcripts (JSONL) ----------------------------------------------------------
{
  const f = 'transcripts/session-1.jsonl';
  const sessionId = look.uuid();
  const rec = (type: string, content: unknown): string =>
    JSON.stringify({
      type,
      sessionId,
      uuid: look.uuid(),
      timestamp: `2025-06-0${int(1, 9)}T12:00:00Z`,
      message: { role: type === 'user' ? 'user' : 'assistant', content },
    });
  decoy(f, rec('user', 'Read the .env and tell me which services we use.'), 'transcript prose');
  decoy(
    f,
    rec('assistant', [
      { type: 'tool_use', id: 'toolu_' + s(ALNUM, 24), name: 'Read', input: { file_path: '/repo/.env' } },
    ]),
    'tool id',
  );
  const env = [
    ['LINEAR_API_KEY', 'linear-api-key'],
    ['GITHUB_TOKEN', 'github-pat'],
    ['SLACK_BOT_TOKEN', 'slack-bot-token'],
  ].map(([k, rule]) => [`${k}=${v(rule as string)}`, rule as string] as const);
  const line = add(
    f,
    rec('user', [
      {
        type: 'tool_result',
        tool_use_id: 'toolu_' + s(ALNUM, 24),
        content: env.map(([l]) => l).join('\n') + '\nPORT=3000\n',
      },
    ]),
  );
  for (const [, rule] of env) labels.push({ file: f, line, rule, kind: 'secret' });
  decoy(
    f,
    rec('assistant', 'The project uses Linear, GitHub and Slack; each key is read from the environment.'),
    'transcript prose',
  );
  const code = `const sentry = Sentry.init({ dsn: '${v('sentry-dsn')}' });\nconst db = 'redis://:${v('urlPassword')}@cache:6379';`;
  const at = add(
    f,
    rec('user', [
      { type: 'tool_result', tool_use_id: 'toolu_' + s(ALNUM, 24), content: [{ type: 'text', text: code }] },
    ]),
  );
  labels.push(
    { file: f, line: at, rule: 'sentry-dsn', kind: 'secret' },
    { file: f, line: at, rule: 'redis-connection-string', kind: 'secret' },
  );
  decoy(
    f,
    rec('assistant', [{ type: 'text', text: `Commit ${look.sha()} bumped the SDK to ${look.version()}.` }]),
    'SHA and version',
  );
}
{
  const f = 'transcripts/session-2.jsonl';
  const sessionId = look.uuid();
  const rec = (type: string, content: unknown): string =>
    JSON.stringify({ type, sessionId, uuid: look.uuid(), message: { role: type, content } });
  decoy(f, rec('user', 'Why does the deploy fail?'), 'transcript prose');
  plant(
    f,
    rec('user', [
      {
        type: 'tool_result',
        tool_use_id: 'toolu_' + s(ALNUM, 24),
        content: `$ env | grep KEY\nGROQ_API_KEY=${v('groq-api-key')}\n`,
      },
    ]),
    'groq-api-key',
  );
  plant(
    f,
    rec('user', [
      {
        type: 'tool_result',
        tool_use_id: 'toolu_' + s(ALNUM, 24),
        content: `config.yaml:\n  shopify:\n    token: ${v('shopify-access-token')}\n`,
      },
    ]),
    'shopify-access-token',
  );
  plant(
    f,
    rec('user', [
      {
        type: 'tool_result',
        tool_use_id: 'toolu_' + s(ALNUM, 24),
        content: `aws configure list\naws_access_key_id = ${v('aws-access-key-id')}\n`,
      },
    ]),
    'aws-access-key-id',
  );
  plant(
    f,
    rec('user', [
      {
        type: 'tool_result',
        tool_use_id: 'toolu_' + s(ALNUM, 24),
        content: `Contact the on-call: ${pii.email()}, ${pii.phone()}`,
      },
    ]),
    'email',
    'pii',
  );
  plant(
    f,
    rec('user', [
      {
        type: 'tool_result',
        tool_use_id: 'toolu_' + s(ALNUM, 24),
        content: `TELEGRAM_TOKEN=${v('telegram-bot-token')}`,
      },
    ]),
    'telegram-bot-token',
  );
  plant(
    f,
    rec('user', [
      {
        type: 'tool_result',
        tool_use_id: 'toolu_' + s(ALNUM, 24),
        content: `const auth = 'Bearer ${v('jwt')}';`,
      },
    ]),
    'jwt',
  );
  decoy(
    f,
    rec('assistant', [
      {
        type: 'tool_use',
        id: 'toolu_' + s(ALNUM, 24),
        name: 'Bash',
        input: { command: 'npm test -- --grep token' },
      },
    ]),
    'tool call',
  );
  decoy(
    f,
    rec('assistant', `The lockfile pins ${look.integrity()}; nothing secret there.`),
    'integrity hash',
  );
}
{
  const f = 'tests/fixtures/auth.spec.ts';
  add(f, '/* eslint-disable */', '// @ts-nocheck', "import { describe, it } from 'vitest';", '');
  decoy(f, "const FAKE_TOKEN = 'ghp_' + 'x'.repeat(36);", 'obviously fake fixture');
  decoy(f, "const token = 'test-token';", 'obviously fake fixture');
  decoy(f, "const password = 'hunter2';", 'short fixture password');
  decoy(f, "const apiKey = 'YOUR_API_KEY_HERE';", 'placeholder');
  decoy(f, "const jwt = 'eyJhbGciOiJIUzI1NiJ9.e30.';", 'truncated JWT');
  decoy(f, "const card = '4242 4242 4242 4242';", 'documented test card');
  decoy(f, "const email = 'someone@example.com';", 'example address');
  decoy(f, "const aws = 'AKIAIOSFODNN7EXAMPLE';", 'documented example');
  decoy(f, `const stripe = 'sk_test_${'X'.repeat(24)}';`, 'obviously fake fixture');
  decoy(f, "it('rejects an expired token', () => expect(verify('expired')).toBe(false));", 'test');
}
{
  const f = 'package-lock.json';
  add(f, '{', '  "name": "billing-service",', '  "lockfileVersion": 3,', '  "packages": {');
  for (let i = 0; i < 6; i++) {
    add(f, `    "node_modules/pkg-${i}": {`);
    decoy(f, `      "version": "${look.version()}",`, 'version');
    decoy(
      f,
      `      "resolved": "https://registry.npmjs.org/pkg-${i}/-/pkg-${i}-${look.version()}.tgz",`,
      'registry URL',
    );
    decoy(f, `      "integrity": "${look.integrity()}"`, 'integrity hash');
    add(f, '    },');
  }
  add(f, '    "node_modules/last": {}', '  }', '}');
}
{
  const f = 'go.sum';
  for (let i = 0; i < 8; i++)
    decoy(f, `github.com/acme/mod${i} v${look.version()} h1:${s(B64, 43)}=`, 'go.sum hash');
}
{
  const f = 'docs/setup.md';
  add(f, '# Setup', '', 'Create a token in the dashboard and export it:', '', '```sh');
  decoy(f, 'export ANTHROPIC_API_KEY=sk-ant-api03-...', 'placeholder');
  decoy(f, 'export DATABASE_URL=postgres://user:password@localhost:5432/app', 'placeholder password');
  decoy(f, 'curl -H "Authorization: Bearer $TOKEN" https://api.acme.io/v1/me', 'variable');
  add(f, '```', '');
  decoy(
    f,
    'Our support line is open weekdays; file issues at https://github.com/acme/billing/issues.',
    'prose',
  );
  decoy(f, 'Build 2024.11.3 (commit ' + look.sha() + ') fixed the token refresh.', 'version and SHA');
  decoy(f, 'Questions: ops@example.com', 'example address');
}

// --- build output and web assets: long random-looking strings that are not secrets -------------
{
  const f = 'web/dist/asset-manifest.json';
  add(f, '{');
  decoy(f, `  "main.js": "/static/js/main.${s(HEX, 8)}.js",`, 'content hash in a file name');
  decoy(f, `  "chunk": "/static/js/${int(100, 999)}.${s(HEX, 20)}.chunk.js",`, 'content hash in a file name');
  decoy(
    f,
    `  "mappings": "AAAA,SAASA,EAAE,${s(ALNUM, 40)};AACA,IAAIC,${s(ALNUM, 30)}",`,
    'source map mappings',
  );
  decoy(f, `  "buildId": "${s(URLSAFE, 21)}",`, 'build id');
  add(f, '  "entrypoints": []', '}');
}
{
  const f = 'web/index.html';
  add(f, '<!doctype html>', '<html lang="en">', '<head>');
  decoy(
    f,
    `  <meta http-equiv="Content-Security-Policy" content="script-src 'nonce-${s(B64, 24)}'">`,
    'CSP nonce',
  );
  decoy(
    f,
    `  <script src="https://cdn.jsdelivr.net/npm/chart.js@4.4.1" integrity="sha384-${s(B64, 64)}" crossorigin="anonymous"></script>`,
    'SRI hash',
  );
  decoy(f, '  <style>:root { --brand: #1f6feb; --accent: #ff7b72; }</style>', 'CSS colors');
  decoy(
    f,
    `  <meta name="google-site-verification" content="${s(URLSAFE, 43)}">`,
    'public site verification',
  );
  add(f, '</head>', '<body>');
  decoy(
    f,
    '  <label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password">',
    'form field',
  );
  decoy(f, '  <a href="mailto:support@example.com">Contact support</a>', 'example address');
  add(f, '</body>', '</html>');
}
{
  const f = 'src/settings.py';
  add(f, 'from django.core.management.utils import get_random_secret_key', '');
  decoy(f, 'SECRET_KEY = get_random_secret_key()', 'function call');
  decoy(
    f,
    'AUTH_PASSWORD_VALIDATORS = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]',
    'setting naming passwords',
  );
  decoy(f, 'API_KEY_HEADER = "x-api-key"', 'header name');
  decoy(f, 'TOKEN_REGEX = r"^[A-Za-z0-9_-]{20,64}$"', 'regex');
  decoy(f, `CACHE_KEY_PREFIX = "billing:v${int(1, 9)}:"`, 'cache key prefix');
  decoy(f, `DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"  # ${look.uuid()}`, 'UUID in a comment');
}

// --- a second service: every provider format again, in a Python settings module and a YAML file --
{
  const named = [
    'password',
    'urlPassword',
    'http-bearer-token',
    'generic-token',
    'generic-secret',
    'generic-api-key',
  ];
  const rules = Object.keys(gen).filter((r) => !named.includes(r));
  // A bare key (no `AccountKey=` around it) is the job of the name-based rules.
  const bare: Record<string, string> = {
    'azure-storage-account-key': 'azure-storage-key-assignment',
    'azure-shared-access-key': 'azure-shared-access-key-assignment',
  };
  rules.forEach((rule, i) => {
    const constant = rule.toUpperCase().replace(/-/g, '_');
    const label = bare[rule] ?? rule;
    if (i % 2 === 0) plant('services/worker/settings.py', `${constant} = "${v(rule)}"`, label);
    else plant('services/worker/config.yaml', `${constant.toLowerCase()}: '${v(rule)}'`, label);
    if (i % 7 === 0)
      decoy(
        'services/worker/settings.py',
        `${constant}_ROTATED_AT = "2025-0${int(1, 9)}-1${int(0, 9)}"`,
        'date',
      );
  });
  decoy('services/worker/config.yaml', `revision: ${look.sha()}`, 'git SHA');
  decoy('services/worker/config.yaml', `queue_id: ${look.uuid()}`, 'UUID');
}

// --- code where a value would be: member chains, negations, types, defaults and doc examples ---
{
  const rb = 'src/models/user.rb';
  add(rb, 'class User < ApplicationRecord', '  has_secure_password');
  decoy(
    rb,
    '  def login = authenticate_by(email: @user.email, password: @user.password)',
    'instance variable',
  );
  decoy(rb, '  SecurePassword.min_cost = Rails.env.test?', 'predicate');
  decoy(rb, '  get "admin/passwords" => "admin#passwords"', 'route to an action');
  add(rb, 'end');
  const ts = 'src/lib/tokens.ts';
  add(ts, '/* eslint-disable */', '// @ts-nocheck');
  decoy(ts, 'const readonlyToken = type2.declaration.readonlyToken ? clone(t) : t;', 'member chain');
  decoy(
    ts,
    'export declare function derive(password: Uint8Array, salt: Uint8Array): Uint8Array;',
    'parameter type',
  );
  decoy(ts, 'this.passThroughOptions = !!passThrough;', 'negation');
  decoy(
    ts,
    "type UsageTokenType = 'cache_creation.ephemeral_1h_input_tokens' | 'output_tokens';",
    'string union',
  );
  decoy(ts, 'const dependencies = { "passport-local": "passport-local" };', 'package name');
  const c = 'src/native/fts.c';
  decoy(c, '  api->xTokenize = fts5V1toV2Tokenize;', 'function pointer');
  decoy(c, '  if (nToken > FTS5_MAX_TOKEN_SIZE) nToken = FTS5_MAX_TOKEN_SIZE;', 'constant');
  decoy(c, '  /* a value of -2147483648 returns +2147483647 */', 'INT_MAX');
  const md = 'docs/database.md';
  decoy(md, 'engine = create_engine("postgresql://scott:tiger@localhost/test")', 'demo account');
  decoy(md, 'DATABASE_URL=postgres://postgres:postgres@localhost:5432/app', 'default account');
  decoy(md, 'const url = new URL("https://abc:xyz@example.com");', 'documentation domain');
  decoy(md, 'export REGISTRY_PASSWORD=your-access-token', 'slot name');
  decoy(md, '  password: "my-top-secret",', 'slot name');
  decoy(md, 'Call directory assistance at (800) 555-1212 or +1 (212) 555-0148.', 'fictional numbers');
  decoy(md, 'IBAN for the example: DE89 3704 0044 0532 0130 00', 'registry example');
  plant(
    md,
    `BILLING_DATABASE_URL=postgres://billing:${v('urlPassword')}@db.internal:5432/billing`,
    'postgres-connection-string',
  );
}

/** Writes the corpus and labels under `root`. */
export function writeCorpus(root = CORPUS_DIR): { files: number; labels: Label[] } {
  rmSync(root, { recursive: true, force: true });
  for (const [file, lines] of files) {
    const path = join(root, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, lines.join('\n') + '\n');
  }
  writeFileSync(join(root, 'labels.json'), JSON.stringify(labels, null, 1) + '\n');
  return { files: files.size, labels };
}

const { files: count, labels: written } = writeCorpus();
const positives = written.filter((l) => l.kind !== 'negative');
console.log(
  `${count} files, ${positives.length} planted values (${new Set(positives.map((l) => l.rule)).size} rules), ` +
    `${written.length - positives.length} look-alikes -> ${CORPUS_DIR}`,
);
