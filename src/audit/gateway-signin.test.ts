import assert from 'node:assert/strict';
import { cp, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { runAudit } from './audit.js';
import { settingsChecksum } from './gateway-signin.js';
import { fixture, testDeps, type Fixture } from './testing/machine.js';

/** What the real client wrote (test/fixtures/claude-gateway-client/README.md). */
const REAL = resolve('test/fixtures/claude-gateway-client');
const GATEWAY = 'http://127.0.0.1:45461';

const fixtures: Fixture[] = [];
after(() => Promise.all(fixtures.map((f) => f.cleanup())));

/** A machine holding the real client's files: `home` and `managed` as the client left them. */
async function governed(): Promise<Fixture> {
  const f = await fixture();
  fixtures.push(f);
  await cp(join(REAL, 'home'), f.home, { recursive: true });
  await cp(join(REAL, 'managed'), f.managed, { recursive: true });
  return f;
}

const gatewayFindings = async (f: Fixture) =>
  (await runAudit(f.machine, testDeps)).findings.filter((x) => x.id.startsWith('gateway-'));

describe('sluice audit: a client governed by a company gateway', () => {
  it('names the gateway, the account and the cached managed settings, with the protocol checksum', async () => {
    const f = await governed();
    const report = await runAudit(f.machine, testDeps);
    const cached = JSON.parse(
      await readFile(join(REAL, 'home/.claude/remote-settings.json'), 'utf8'),
    ) as unknown;
    const checksum = settingsChecksum(cached);
    assert.match(checksum, /^sha256:[0-9a-f]{64}$/);
    const found = report.findings.filter((x) => x.id.startsWith('gateway-'));
    assert.deepEqual(
      found.map(({ id, severity, message, file }) => ({ id, severity, message, file })),
      [
        {
          id: 'gateway-governed',
          severity: 'info',
          message: `Claude Code is signed in to the company gateway ${GATEWAY} as dev@example.com and takes its managed settings from it (forceLoginMethod "gateway" in ${join(f.managed, 'managed-settings.json')}); its cached copy (${join(f.home, '.claude/remote-settings.json')}, fetched 2026-12-06T16:34:16.118Z) sets env, permissions, checksum ${checksum}.`,
          file: join(f.home, '.claude/.credentials.json'),
        },
      ],
    );
    assert.deepEqual(report.gatewaySignIn.signedIn, {
      url: GATEWAY,
      email: 'dev@example.com',
      expiresAt: '2026-12-06T17:33:53.579Z',
      file: join(f.home, '.claude/.credentials.json'),
    });
    assert.ok(
      report.assumptions.includes(
        `plan assumed "api" because a sign-in to the gateway ${GATEWAY} is configured; pass --plan to say otherwise`,
      ),
    );
    assert.ok(!JSON.stringify(report).includes('FIXTURE-'), 'no token leaves the audit');
  });

  it('without the cached copy: governed, and says why nothing is cached', async () => {
    const f = await governed();
    await rm(join(f.home, '.claude/remote-settings.json'));
    const [only] = await gatewayFindings(f);
    assert.equal(only?.id, 'gateway-governed');
    assert.match(only?.message ?? '', /no approved copy is cached yet/);
  });

  it('forced but not signed in, or signed in elsewhere: gateway-sign-in-missing', async () => {
    const f = await governed();
    await rm(join(f.home, '.claude/.credentials.json'));
    assert.deepEqual(
      (await gatewayFindings(f)).map((x) => [x.id, x.severity, x.message]),
      [
        [
          'gateway-sign-in-missing',
          'low',
          `The managed settings make Claude Code sign in to the company gateway ${GATEWAY}, but it is not signed in (no enterpriseGateway in ${join(f.home, '.claude/.credentials.json')}): it asks for /login at start and sends nothing until then.`,
        ],
      ],
    );
    const other = await governed();
    await other.write(
      'managed/managed-settings.json',
      '{"forceLoginMethod":"gateway","forceLoginGatewayUrl":"https://sluice.example.com"}',
    );
    const [mismatch] = await gatewayFindings(other);
    assert.equal(mismatch?.id, 'gateway-sign-in-missing');
    assert.match(
      mismatch?.message ?? '',
      new RegExp(`signed in to another gateway, ${GATEWAY.replace(/\./g, '\\.')}`),
    );
  });

  it('the keys only count from a machine-managed source: in user settings the sign-in is unused', async () => {
    const f = await governed();
    await rm(join(f.managed, 'managed-settings.json'));
    await f.write('home/.claude/settings.json', {
      forceLoginMethod: 'gateway',
      forceLoginGatewayUrl: GATEWAY,
    });
    const [unused] = await gatewayFindings(f);
    assert.equal(unused?.id, 'gateway-sign-in-unused');
    assert.equal(
      unused?.fix,
      `Put {"forceLoginMethod": "gateway", "forceLoginGatewayUrl": "${GATEWAY}"} in ${join(f.managed, 'managed-settings.json')}, or run \`claude auth logout\`.`,
    );
  });
});
