/** A sign-in world for end-to-end tests: a real OpenID provider, the stand-in upstream, `sluice serve`. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandin, type Standin } from '../../src/gateway/testing/standin.js';
import { freePort, startTestIdp, type TestIdp } from '../../src/signin/testing/idp.js';
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

/** Starts the world; the org `acme` takes IdP group `engineers`, whose managed settings are `policy`. */
export async function startSignInWorld(policy: string): Promise<SignInWorld> {
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
  acme: { upstream: anthropic, contentLogging: none }
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
