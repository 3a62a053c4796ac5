/** A sign-in world for end-to-end tests: a real OpenID provider, the stand-in upstream, `sluice serve`. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandin, type Standin } from '../../src/gateway/testing/standin.js';
import { freePort, startTestIdp, TestBrowser, type TestIdp } from '../../src/signin/testing/idp.js';
import { cleanEnv, serve, type Served } from './processes.js';

export interface SignInWorld {
  dir: string;
  /** The gateway's public URL. */
  base: string;
  idp: TestIdp;
  standin: Standin;
  gateway: Served;
  clientSecret: string;
  close(): Promise<void>;
}

/**
 * Starts the world; the org `acme` (settings `org`) takes IdP group `engineers`, whose managed
 * settings are `policy`. IdP users: `dev` and `leaver` (engineers), `contractor` (engineers and
 * contractors), `sales` (mapped nowhere).
 */
export async function startSignInWorld(
  policy: string,
  org = '{ upstream: anthropic, contentLogging: none }',
): Promise<SignInWorld> {
  const clientSecret = randomBytes(16).toString('hex');
  const dir = await mkdtemp(join(tmpdir(), 'sluice-signin-'));
  const standin = await startStandin('sk-ant-upstream-signin');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const idp = await startTestIdp({
    clientId: 'sluice',
    clientSecret,
    redirectUri: `${base}/oauth/callback`,
    users: {
      dev: { email: 'dev@example.com', name: 'Dev Eloper', groups: ['engineers'] },
      leaver: { email: 'leaver@example.com', name: 'Lea Ver', groups: ['engineers'] },
      contractor: {
        email: 'contractor@example.com',
        name: 'Con Tractor',
        groups: ['engineers', 'contractors'],
      },
      sales: { email: 'sales@example.com', name: 'Sal Es', groups: ['sales'] },
    },
  });
  await writeFile(join(dir, 'signing.key'), randomBytes(32).toString('base64url'), { mode: 0o600 });
  await writeFile(join(dir, 'engineers.yaml'), policy);
  await writeFile(
    join(dir, 'sluice.yaml'),
    `storage: sqlite:./sluice.db
server: { port: ${port} }
upstreams:
  anthropic: { provider: anthropic, baseUrl: "${standin.url}", apiKey: sk-ant-upstream-signin }
orgs:
  acme: ${org}
signin:
  publicUrl: ${base}
  issuer: ${idp.issuer}
  clientId: sluice
  clientSecretEnv: SLUICE_OIDC_SECRET
  scopes: [openid, profile, email, offline_access, groups]
  map:
    - { groups: [engineers], org: acme, role: member }
  signingKeys: [./signing.key]
  managedSettings:
    - { groups: [engineers], policy: ./engineers.yaml }
`,
  );
  // A gateway that does not start must not leave the IdP and the stand-in holding the test open.
  const gateway = await serve(
    dir,
    ['--config', 'sluice.yaml'],
    cleanEnv({ SLUICE_OIDC_SECRET: clientSecret }),
  ).catch(async (err: unknown) => {
    await idp.close();
    await standin.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    dir,
    base,
    idp,
    standin,
    gateway,
    clientSecret,
    close: async () => {
      await gateway.stop();
      await idp.close();
      await standin.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Approves `userCode` in a browser as IdP user `login`: the verification page, the IdP's forms, the callback. */
export async function approveDevice(world: SignInWorld, userCode: string, login: string): Promise<string> {
  const browser = new TestBrowser();
  const verified = await browser.request(`${world.base}/device`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: world.base },
    body: new URLSearchParams({ user_code: userCode }).toString(),
  });
  const done = await browser.signInAtIdp(
    verified,
    `${world.base}/device`,
    login,
    `${world.base}/oauth/callback`,
  );
  return done.body;
}

export interface DeviceTokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

/** The whole device flow as a client would run it, approved by `login`; returns the tokens. */
export async function signInAs(world: SignInWorld, login: string): Promise<DeviceTokens> {
  const form = (fields: Record<string, string>) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const auth = await fetch(`${world.base}/oauth/device_authorization`, form({}));
  const grant = (await auth.json()) as { device_code: string; user_code: string };
  const page = await approveDevice(world, grant.user_code, login);
  if (!page.includes('signed in. Return to your device.'))
    throw new Error(`sign-in of ${login} failed: ${page}`);
  const res = await fetch(
    `${world.base}/oauth/token`,
    form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: grant.device_code }),
  );
  if (res.status !== 200) throw new Error(`token for ${login}: ${res.status} ${await res.text()}`);
  return (await res.json()) as DeviceTokens;
}
