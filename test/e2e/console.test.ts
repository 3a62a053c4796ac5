/**
 * The web console in a real browser (Debian's chromium, driven by playwright-core) against a real
 * `sluice serve` process with a seeded SQLite store. Skips loudly where chromium is missing, and
 * fails instead under SLUICE_REQUIRE_BROWSER=1 (as .ci/run sets). Screenshots of every page go to
 * test/screenshots/console/ (gitignored; docs/console.md shows where).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createKey } from '../../src/control/keys.js';
import { startStandin, type Standin } from '../../src/gateway/testing/standin.js';
import { openStore } from '../../src/store/index.js';
import type { AuditRecord, EgressRecord } from '../../src/store/types.js';
import { axeViolations, browserSkip, launchChromium, SHOTS } from './browser.js';
import { cleanEnv, serve, type Served } from './processes.js';

const TOKEN = 'console-admin-token-0123456789abcdef';
const PAGES = [
  'overview',
  'usage',
  'requests',
  'guard',
  'keys',
  'users',
  'admin-log',
  'flows',
  'egress',
] as const;

const skip = browserSkip();
const cleanups: (() => Promise<unknown>)[] = [];
let served: Served;
let standin: Standin;
let browser: Browser;
const keys: Record<string, string> = {};

function audit(i: number, org: string, user: string, over: Partial<AuditRecord> = {}): AuditRecord {
  return {
    id: `seed_${org}_${i}`,
    time: new Date(Date.now() - i * 3_600_000).toISOString(),
    org,
    user,
    keyId: null,
    sessionId: `session-${org}-${i % 3}`,
    method: 'POST',
    path: '/v1/messages',
    model: i % 2 ? 'claude-test' : 'claude-other',
    stream: true,
    status: 200,
    errorType: null,
    upstream: 'anthropic',
    upstreamsTried: ['anthropic'],
    inputTokens: 1000 + i,
    outputTokens: 200 + i,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0,
    costUsd: 0.01 * i,
    latencyMs: 300 + i,
    overheadMs: 1,
    guard: { decision: 'none', rules: {} },
    requestContent: null,
    responseContent: null,
    ...over,
  };
}

function egress(
  i: number,
  org: string,
  user: string,
  host: string,
  decision: 'allow' | 'deny',
): EgressRecord {
  return {
    id: `eg_${org}_${i}`,
    time: new Date(Date.now() - i * 600_000).toISOString(),
    org,
    user,
    host,
    port: 443,
    method: 'CONNECT',
    decision,
    rule: decision === 'allow' ? 'preset:anthropic' : 'default-deny',
    bytesUp: 100,
    bytesDown: 1000,
    durationMs: 20,
    error: null,
  };
}

/** A store seeded with two orgs' keys, records (some the guard flagged) and egress connections. */
async function seed(dir: string): Promise<void> {
  const store = await openStore('sqlite:./.sluice/sluice.db', dir);
  const key = async (name: string, org: string, user: string, role: 'admin' | 'auditor' | 'member') =>
    (keys[name] = (await createKey(store, { org, user, role }, new Date())).key);
  await key('acmeAdmin', 'acme', 'boss@acme.test', 'admin');
  await key('acmeMember', 'acme', 'dev@acme.test', 'member');
  await key('betaAuditor', 'beta', 'audit@beta.test', 'auditor');
  const records: AuditRecord[] = [];
  for (let i = 1; i <= 30; i++)
    records.push(
      audit(i, 'acme', i % 2 ? 'dev@acme.test' : 'lead@acme.test', {
        ...(i % 5 === 0 ? { guard: { decision: 'block', rules: { 'aws-access-key-id': 1 } } } : {}),
        ...(i % 7 === 0 ? { guard: { decision: 'redact', rules: { 'github-pat': 2 } } } : {}),
      }),
    );
  for (let i = 1; i <= 4; i++) records.push(audit(i, 'beta', 'dev@beta.test'));
  await store.insertAudits(records);
  await store.insertEgress(egress(1, 'acme', 'dev@acme.test', 'api.anthropic.com', 'allow'));
  await store.insertEgress(egress(2, 'acme', 'dev@acme.test', 'unexpected.acme-only.test', 'deny'));
  await store.insertEgress(egress(3, 'beta', 'dev@beta.test', 'api.anthropic.com', 'allow'));
  await store.close();
}

before(async () => {
  if (skip) return;
  execFileSync(process.execPath, ['scripts/build-console.mjs']);
  await mkdir(SHOTS, { recursive: true });
  standin = await startStandin('sk-ant-console');
  cleanups.push(() => standin.close());
  const dir = await mkdtemp(join(tmpdir(), 'sluice-console-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    join(dir, 'sluice.yaml'),
    `server: { host: 127.0.0.1, port: 0 }
storage: sqlite:./.sluice/sluice.db
admin: { tokens: ["${TOKEN}"] }
upstreams:
  anthropic: { provider: anthropic, baseUrl: "${standin.url}", apiKey: "\${ANTHROPIC_API_KEY}" }
orgs:
  acme: { upstream: anthropic, contentLogging: redacted }
  beta: { upstream: anthropic, budgets: { org: { daily: 50, monthly: 500 }, perUser: { daily: 5 } } }
`,
  );
  await seed(dir);
  served = await serve(dir, [], cleanEnv({ ANTHROPIC_API_KEY: 'sk-ant-console' }));
  cleanups.push(() => served.stop());
  browser = await launchChromium();
  cleanups.push(() => browser.close());
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A member key of org acme for `user`, through the admin API with the config admin token. */
async function createKeyAt(url: string, user: string): Promise<string> {
  const res = await fetch(`${url}/admin/v1/orgs/acme/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ user, role: 'member' }),
  });
  assert.equal(res.status, 201);
  return ((await res.json()) as { key: string }).key;
}

interface Watched {
  page: Page;
  errors: string[];
}

async function signedIn(token: string): Promise<Watched> {
  const context = await browser.newContext({
    viewport: { width: 1366, height: 900 },
    timezoneId: 'Europe/Berlin',
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${served.url}/console`);
  await page.getByLabel('Token or key').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Pages' }).waitFor();
  return { page, errors };
}

/** Opens `id` and waits until nothing on it is loading. */
async function open(page: Page, id: string): Promise<void> {
  await page.goto(`${served.url}/console#/${id}`);
  await page.getByRole('navigation', { name: 'Pages' }).waitFor();
  await page
    .locator('[aria-current="page"]')
    .and(page.locator(`[href="#/${id}"]`))
    .waitFor();
  // No element in a loading state is left (the page's CSP forbids the eval behind waitForFunction).
  await page.locator('.state.loading').first().waitFor({ state: 'detached' });
}

describe('the console in chromium', { skip }, () => {
  it('every page renders from the seeded store with no console error and no serious axe violation', async () => {
    const { page, errors } = await signedIn(TOKEN);
    for (const id of PAGES) {
      await open(page, id);
      assert.equal(
        await page.locator('[role="alert"]').count(),
        0,
        `${id}: ${await page.locator('main').innerText()}`,
      );
      await page.screenshot({ path: join(SHOTS, `${id}.png`), fullPage: true });
      assert.deepEqual(await axeViolations(page), [], id);
    }
    await open(page, 'requests');
    assert.match(await page.locator('main').innerText(), /dev@acme\.test/);
    await open(page, 'guard');
    const guard = await page.locator('main').innerText();
    assert.match(guard, /aws-access-key-id/);
    await open(page, 'egress');
    const unexpected = page.getByRole('row').filter({ hasText: 'unexpected.acme-only.test:443' }).first();
    assert.match(await unexpected.innerText(), /\bno\b.*unknown host/s);
    const expected = page.getByRole('row').filter({ hasText: 'api.anthropic.com:443' }).first();
    assert.match(await expected.innerText(), /\byes\b.*inference/s);
    await open(page, 'usage');
    const usage = await page.locator('main').innerText();
    assert.match(usage, /lead@acme\.test/);
    assert.match(usage, /Org acme has no spend limits \(orgs\.acme\.budgets\)\./);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  it("the guard page shows a record's request with the secret as its placeholder, nowhere its value", async () => {
    const secret = 'ghp_' + randomBytes(27).toString('base64url').replace(/[-_]/g, 'x').slice(0, 36);
    const key = await createKeyAt(served.url, 'secret@acme.test');
    const res = await fetch(`${served.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-test',
        max_tokens: 5,
        messages: [{ role: 'user', content: `the deploy token is ${secret}, keep it safe` }],
      }),
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const { page, errors } = await signedIn(TOKEN);
    const answers: string[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/console/')) answers.push(r.url());
    });
    const bodies: Promise<string>[] = [];
    page.on('response', (r) => void bodies.push(r.text().catch(() => '')));
    await open(page, 'guard');
    await page.getByRole('button', { name: /^Show the request \S+ of secret@acme\.test$/ }).click();
    const shown = page.getByLabel('The request as stored');
    await shown.waitFor();
    assert.match(await shown.innerText(), /the deploy token is \[REDACTED:github-pat:1\], keep it safe/);
    await page.screenshot({ path: join(SHOTS, 'guard-record.png'), fullPage: true });
    assert.deepEqual(await axeViolations(page), []);
    assert.ok(!(await page.content()).includes(secret), 'the secret is not on the page');
    await page.getByRole('button', { name: 'Close the request' }).click();
    await shown.waitFor({ state: 'detached' });
    assert.match(
      (await page.locator(':focus').getAttribute('aria-label')) ?? '',
      /^Show the request \S+ of secret@acme\.test$/,
      'the focus is back on the button that opened it',
    );
    const texts = await Promise.all(bodies);
    assert.ok(
      answers.some((u) => u.includes('/records/')),
      answers.join('\n'),
    );
    assert.ok(texts.length > 0 && texts.every((t) => !t.includes(secret)), 'nor in any answer');
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  it('the data flows are a diagram from the machine to each destination, and a table a button away', async () => {
    const { page, errors } = await signedIn(TOKEN);
    await open(page, 'flows');
    const diagram = page.getByRole('figure');
    assert.match(await diagram.innerText(), /Developer machine/);
    const anthropic = page.getByRole('region', { name: 'Destination anthropic' });
    const text = await anthropic.innerText();
    assert.match(text, /inference[^]*Training use\s+no[^]*Retention\s+30 days/);
    assert.ok((await anthropic.getByRole('link').count()) > 0, 'sources as links');
    await page.getByRole('button', { name: 'Table' }).click();
    await page.getByRole('table', { name: 'Flows' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Table' }).getAttribute('aria-pressed'), 'true');
    assert.deepEqual(await axeViolations(page), []);
    await page.screenshot({ path: join(SHOTS, 'flows-table.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  it('the users page lists the org users; revoking one there ends their keys, after a confirmation', async () => {
    const key = await createKeyAt(served.url, 'gone@acme.test');
    const ask = () =>
      fetch(`${served.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'content-type': 'application/json' },
        body: '{"model":"claude-test","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}',
      });
    assert.equal((await ask()).status, 200);
    const { page, errors } = await signedIn(keys.acmeAdmin as string);
    await open(page, 'users');
    const row = page
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: 'gone@acme.test' }) });
    assert.match(await row.innerText(), /member[^]*1 requests/);
    await row.getByRole('button', { name: 'Revoke gone@acme.test' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke this user?' });
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /gone@acme\.test: 1 live key stop working/);
    await page.screenshot({ path: join(SHOTS, 'users-revoke.png') });
    await dialog.getByRole('button', { name: 'Revoke keys and sessions' }).click();
    await page.getByText('gone@acme.test: 1 key(s) and 0 session(s) revoked.').waitFor();
    assert.equal((await ask()).status, 401);
    const log = (await (
      await fetch(`${served.url}/admin/v1/admin-log`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { entries: { actor: string; action: string }[] };
    assert.deepEqual(log.entries.map((e) => [e.actor, e.action]).at(-1), [
      'admin-api:boss@acme.test',
      'key.revoked',
    ]);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  it('the sign-in page passes axe and a wrong token shows the error', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${served.url}/console`);
    await page.getByLabel('Token or key').fill('sk-sluice-wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    assert.equal(
      await page.getByRole('alert').innerText(),
      'This token is not an admin token and not a live Sluice key.',
    );
    await page.screenshot({ path: join(SHOTS, 'sign-in.png') });
    assert.deepEqual(await axeViolations(page), []);
    await context.close();
  });

  it('revoking a key in the console makes the next request with it a 401', async () => {
    const ask = () =>
      fetch(`${served.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': keys.acmeMember as string, 'content-type': 'application/json' },
        body: '{"model":"claude-test","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}',
      });
    assert.notEqual((await ask()).status, 401, 'the key works before');
    const { page, errors } = await signedIn(keys.acmeAdmin as string);
    await open(page, 'keys');
    const prefix = (keys.acmeMember as string).slice(0, 14);
    const row = page.getByRole('row').filter({ hasText: 'dev@acme.test' });
    await row.getByRole('button', { name: /^Revoke/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke this key?' });
    await dialog.waitFor();
    await page.screenshot({ path: join(SHOTS, 'keys-revoke.png') });
    await dialog.getByRole('button', { name: 'Revoke key' }).click();
    await page.getByText(/of dev@acme\.test is revoked\./).waitFor();
    const after = await ask();
    assert.equal(after.status, 401);
    assert.equal(((await after.json()) as { error: { type: string } }).error.type, 'authentication_error');
    assert.ok(prefix.length > 0);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  it('an auditor of org beta sees nothing of org acme, on the pages or the data endpoints', async () => {
    const { page, errors } = await signedIn(keys.betaAuditor as string);
    for (const id of PAGES) {
      await open(page, id);
      const text = await page.locator('body').innerText();
      assert.doesNotMatch(text, /acme/i, id);
      if (id === 'usage') assert.match(text, /Spend limits[^]*org beta\tdaily\t\$50\.00/);
      await page.screenshot({ path: join(SHOTS, `auditor-${id}.png`), fullPage: true });
    }
    assert.equal(await page.getByRole('combobox', { name: 'Org' }).count(), 0, 'no org picker');
    const statuses = await page.evaluate(async () => {
      const paths = [
        '/console/api/orgs/acme/overview',
        '/console/api/orgs/acme/requests',
        '/console/api/orgs/acme/guard',
        '/console/api/orgs/acme/flows',
        '/console/api/admin/v1/orgs/acme/records',
        '/console/api/admin/v1/orgs/acme/keys',
        '/console/api/admin/v1/orgs/acme/egress',
        '/console/api/admin/v1/admin-log',
      ];
      return Promise.all(paths.map(async (p) => [p, (await fetch(p)).status] as const));
    });
    for (const [path, status] of statuses) assert.equal(status, 403, path);
    // The admin log needs a config admin token: the page says so (a 403 the browser logs), nothing else.
    assert.deepEqual(
      errors.filter((e) => !/status of 403/.test(e)),
      [],
    );
    await page.context().close();
  });

  it('the live view shows a request as it arrives', async () => {
    const { page, errors } = await signedIn(TOKEN);
    await open(page, 'requests');
    await page.getByLabel('User').fill('live@acme.test');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('No requests match these filters.').waitFor();
    await page.getByLabel('Live (newest page, every 3 s)').check();
    const key = await createKeyAt(served.url, 'live@acme.test');
    const res = await fetch(`${served.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: '{"model":"claude-test","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}',
    });
    await res.arrayBuffer();
    await page.getByRole('cell', { name: 'live@acme.test' }).waitFor({ timeout: 15_000 });
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  it('an action without the CSRF token is refused, even with the session cookie', async () => {
    const { page } = await signedIn(keys.acmeAdmin as string);
    const answer = await page.evaluate(async () => {
      const res = await fetch('/console/api/admin/v1/orgs/acme/keys', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'csrf@acme.test', role: 'admin' }),
      });
      return { status: res.status, body: await res.json() };
    });
    assert.equal(answer.status, 403);
    assert.equal(
      (answer.body as { error: { message: string } }).error.message,
      'This console action lacks its CSRF token (x-csrf-token from POST /console/session), so it was refused. Reload the console and try again.',
    );
    await page.context().close();
  });
});
