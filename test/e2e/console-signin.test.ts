/**
 * The console's sign-in through the company IdP, in chromium: a real OpenID provider
 * (oidc-provider, src/signin/testing/idp.ts), a real `sluice serve` with `signin:` configured. The
 * IdP's groups map to the console's roles through `signin.map`; the sign-in, its refusals, a
 * revocation and a sign-out enter the admin log.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { freePort, startTestIdp, type TestIdp } from '../../src/signin/testing/idp.js';
import { axeViolations, browserSkip, launchChromium, SHOTS } from './browser.js';
import { cleanEnv, serve, type Served } from './processes.js';

const TOKEN = 'console-signin-admin-token-0123456789';
const skip = browserSkip();
const cleanups: (() => Promise<unknown>)[] = [];
let base: string;
let idp: TestIdp;
let served: Served;
let browser: Browser;

before(async () => {
  if (skip) return;
  execFileSync(process.execPath, ['scripts/build-console.mjs']);
  await mkdir(SHOTS, { recursive: true });
  const clientSecret = randomBytes(16).toString('hex');
  const dir = await mkdtemp(join(tmpdir(), 'sluice-console-signin-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  idp = await startTestIdp({
    clientId: 'sluice',
    clientSecret,
    redirectUri: `${base}/oauth/callback`,
    moreRedirectUris: [`${base}/console/signin/callback`],
    users: {
      lead: { email: 'lead@example.com', name: 'Lea Der', groups: ['security'] },
      auditor: { email: 'auditor@example.com', name: 'Aud Itor', groups: ['auditors'] },
      dev: { email: 'dev@example.com', name: 'Dev Eloper', groups: ['engineers'] },
    },
  });
  cleanups.push(() => idp.close());
  await writeFile(join(dir, 'signing.key'), randomBytes(32).toString('base64url'), { mode: 0o600 });
  await writeFile(
    join(dir, 'sluice.yaml'),
    `storage: sqlite:./sluice.db
server: { host: 127.0.0.1, port: ${port} }
admin: { tokens: ["${TOKEN}"] }
upstreams:
  anthropic: { provider: anthropic, baseUrl: "http://127.0.0.1:1", apiKey: sk-ant-unused }
orgs:
  acme: { upstream: anthropic }
signin:
  publicUrl: ${base}
  issuer: ${idp.issuer}
  clientId: sluice
  clientSecretEnv: SLUICE_OIDC_SECRET
  displayName: Acme SSO
  scopes: [openid, profile, email, offline_access, groups]
  map:
    - { groups: [security], org: acme, role: admin }
    - { groups: [auditors], org: acme, role: auditor }
    - { groups: [engineers], org: acme, role: member }
  signingKeys: [./signing.key]
`,
  );
  served = await serve(dir, ['--config', 'sluice.yaml'], cleanEnv({ SLUICE_OIDC_SECRET: clientSecret }));
  cleanups.push(() => served.stop());
  browser = await launchChromium();
  cleanups.push(() => browser.close());
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Watched {
  page: Page;
  errors: string[];
}

/** Signs in at the console with the IdP as `login`; resolves back on the console, signed in or refused. */
async function idpSignIn(login: string): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && page.url().startsWith(base) && errors.push(m.text()));
  await page.goto(`${base}/console`);
  await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
  // The IdP's own pages: its login form, then its consent form.
  for (let step = 0; step < 4 && !page.url().startsWith(`${base}/console`); step++) {
    const before = page.url();
    const user = page.locator('input[name="login"]');
    if (await user.count()) {
      await user.fill(login);
      await page.locator('input[name="password"]').fill('any');
    }
    await page.locator('button[type="submit"]').first().click();
    await page.waitForURL((u) => u.href !== before);
  }
  await page.getByRole('navigation', { name: 'Pages' }).or(page.getByRole('alert')).waitFor();
  return { page, errors };
}

type Entry = { actor: string; action: string; target: string; details: Record<string, unknown> };
async function adminLog(): Promise<Entry[]> {
  const res = await fetch(`${base}/admin/v1/admin-log`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return ((await res.json()) as { entries: Entry[] }).entries;
}

describe("the console's sign-in through the company IdP, in chromium", { skip }, () => {
  it('offers the IdP on the sign-in page; an auditor signs in with a Strict HttpOnly cookie, logged', async () => {
    const context = await browser.newContext();
    const first = await context.newPage();
    await first.goto(`${base}/console`);
    await first.getByRole('link', { name: 'Sign in with Acme SSO' }).waitFor();
    await first.screenshot({ path: join(SHOTS, 'sign-in-idp.png') });
    assert.deepEqual(await axeViolations(first), []);
    await context.close();

    const { page, errors } = await idpSignIn('auditor');
    assert.match(await page.locator('header').innerText(), /auditor@example\.com \(auditor\)/);
    assert.equal(new URL(page.url()).search, '', 'no leftovers of the round trip in the address bar');
    const cookie = (await page.context().cookies()).find((c) => c.name === 'sluice_console');
    assert.ok(cookie);
    assert.deepEqual(
      [cookie.httpOnly, cookie.sameSite, cookie.secure, cookie.path],
      [true, 'Strict', false, '/console'],
    );
    const entry = (await adminLog()).find((e) => e.action === 'console.signin');
    assert.ok(entry, 'the sign-in is in the admin log');
    assert.equal(entry.actor, 'console:auditor@example.com');
    assert.deepEqual(
      [entry.details.org, entry.details.role, entry.details.groups],
      ['acme', 'auditor', ['auditors']],
    );

    await page.goto(`${base}/console#/users`);
    const row = page
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: 'auditor@example.com' }) });
    assert.match(await row.innerText(), /auditor[^]*auditors[^]*console, since/);
    assert.equal(
      await page.getByRole('button', { name: /^Revoke/ }).count(),
      0,
      'an auditor revokes nothing',
    );
    const csrf = await page.evaluate(async () => {
      const res = await fetch('/console/api/orgs/acme/users/revoke', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"user":"dev@example.com"}',
      });
      return res.status;
    });
    assert.equal(csrf, 403);
    assert.deepEqual(await axeViolations(page), []);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in with Acme SSO' }).waitFor();
    const out = (await adminLog()).find((e) => e.action === 'signin.revoked' && e.target === entry.target);
    assert.equal(out?.actor, 'console:auditor@example.com', 'signing out ends the sign-in session');
    // The one error is the CSRF refusal asked for above (the browser logs the 403).
    assert.deepEqual(
      errors.filter((e) => !/status of 403/.test(e)),
      [],
    );
    await page.context().close();
  });

  it('a person the map makes a member is refused with the reason, and the refusal is logged', async () => {
    const { page } = await idpSignIn('dev');
    assert.equal(
      await page.getByRole('alert').innerText(),
      'Sign-in did not complete. The console needs the auditor or admin role in org "acme"; signin.map gives dev@example.com the member role. Ask an administrator to map one of your groups to auditor or admin.',
    );
    await page.screenshot({ path: join(SHOTS, 'sign-in-idp-refused.png') });
    const denied = (await adminLog()).find((e) => e.action === 'console.signin_denied');
    assert.equal(denied?.actor, 'console:dev@example.com');
    assert.deepEqual([denied?.details.role, denied?.details.groups], ['member', ['engineers']]);
    assert.equal(
      await page
        .context()
        .cookies()
        .then((c) => c.some((x) => x.name === 'sluice_console')),
      false,
    );
    await page.context().close();
  });

  it("an admin revokes a signed-in person on the users page: that person's console session ends", async () => {
    const auditor = await idpSignIn('auditor');
    const lead = await idpSignIn('lead');
    await lead.page.goto(`${base}/console#/users`);
    const row = lead.page
      .getByRole('row')
      .filter({ has: lead.page.getByRole('rowheader', { name: 'auditor@example.com' }) });
    await row.getByRole('button', { name: 'Revoke auditor@example.com' }).click();
    await lead.page
      .getByRole('dialog', { name: 'Revoke this user?' })
      .getByRole('button', { name: 'Revoke keys and sessions' })
      .click();
    await lead.page.getByText('auditor@example.com: 0 key(s) and 1 session(s) revoked.').waitFor();
    await lead.page.screenshot({ path: join(SHOTS, 'users-idp.png'), fullPage: true });
    const session = await auditor.page.evaluate(async () => (await fetch('/console/session')).json());
    assert.deepEqual(session, { signedIn: false, idp: { label: 'Acme SSO' } });
    const revoked = (await adminLog()).filter((e) => e.action === 'signin.revoked').at(-1);
    assert.equal(revoked?.actor, 'console:lead@example.com');
    assert.deepEqual(lead.errors, []);
    await auditor.page.context().close();
    await lead.page.context().close();
  });

  it('a callback this browser did not start is refused; the reason is told once, never put in the address', async () => {
    const start = await fetch(`${base}/console/signin`, { redirect: 'manual' });
    assert.equal(start.status, 302);
    const set = start.headers.get('set-cookie') ?? '';
    assert.match(set, /^sluice_console_signin=[\w-]+; Path=\/console; HttpOnly; SameSite=Lax; Max-Age=300$/);
    const state = new URL(start.headers.get('location') as string).searchParams.get('state');
    const back = await fetch(`${base}/console/signin/callback?code=abc&state=${state}`, {
      redirect: 'manual',
    });
    assert.equal(back.status, 302);
    assert.equal(back.headers.get('location'), '/console?signin=failed');
    // The same browser (its binding cookie) with a state that is not its own.
    const binding = set.split(';')[0] as string;
    const again = await fetch(`${base}/console/signin/callback?code=abc&state=${state}`, {
      redirect: 'manual',
      headers: { cookie: binding },
    });
    assert.equal(again.headers.get('location'), '/console?signin=failed');
    const told = () =>
      fetch(`${base}/console/session`, { headers: { cookie: binding } }).then((r) => r.json());
    assert.deepEqual(await told(), {
      signedIn: false,
      idp: { label: 'Acme SSO' },
      signinError: 'This sign-in link has expired or was used already. Sign in again.',
    });
    assert.deepEqual(await told(), { signedIn: false, idp: { label: 'Acme SSO' } });
  });
});
