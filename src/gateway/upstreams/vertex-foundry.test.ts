import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { after, describe, it } from 'node:test';
import {
  startFoundryStandin,
  startVertexStandin,
  testServiceAccount,
  type VertexStandin,
} from '../testing/clouds.js';
import { startHarness, type Harness } from '../testing/harness.js';

const running: { close(): Promise<void> }[] = [];
after(async () => {
  for (const r of running) await r.close();
});

const sdk = (h: Harness) => new Anthropic({ baseURL: h.gateway.url, apiKey: h.key, maxRetries: 0 });
const ask = {
  model: 'claude-sonnet-4-5',
  max_tokens: 50,
  messages: [{ role: 'user' as const, content: 'hi' }],
};
const said = (e: unknown) =>
  String((e as { error?: { error?: { message?: string } } }).error?.error?.message);

/** A key file in a folder of its own, as an administrator would keep it. */
async function keyFile(json: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-sa-'));
  running.push({ close: () => rm(dir, { recursive: true, force: true }) });
  const path = join(dir, 'sa.json');
  await writeFile(path, JSON.stringify(json), { mode: 0o600 });
  return path;
}

/** A gateway whose org goes to a Vertex stand-in `gcp` with the key file at `keyPath`. */
async function vertexGateway(gcp: VertexStandin, keyPath: string, region = 'global', project = 'my-project') {
  const h = await startHarness('{ upstream: gcp }', {
    upstreams: `  gcp: { provider: vertex, project: ${project}, region: ${region}, baseUrl: "${gcp.url}/v1", credentials: "${keyPath}" }`,
  });
  running.push(h);
  return h;
}

describe('a Vertex AI upstream', () => {
  it('streams with an access token minted from the service-account key, cached across requests', async () => {
    const gcp = await startVertexStandin({ project: 'my-project', region: 'global' });
    running.push(gcp);
    const h = await vertexGateway(gcp, await keyFile(gcp.account.keyFile));
    const message = await sdk(h)
      .messages.stream(ask, { headers: { 'anthropic-beta': 'interleaved-thinking-2025-05-14' } })
      .finalMessage();
    assert.equal(message.content[0]?.type, 'text');
    await sdk(h).messages.create(ask);
    assert.deepEqual(gcp.refused, []);
    assert.equal(gcp.minted.length, 1, 'one token for both requests');
    const calls = gcp.seen.filter((r) => r.url !== '/token');
    assert.equal(
      calls[0]?.url,
      '/v1/projects/my-project/locations/global/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict',
    );
    assert.equal(
      calls[1]?.url,
      '/v1/projects/my-project/locations/global/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict',
    );
    assert.equal(calls[0]?.headers['anthropic-beta'], 'interleaved-thinking-2025-05-14');
    const body = JSON.parse(String(calls[0]?.body)) as Record<string, unknown>;
    assert.equal(body.anthropic_version, 'vertex-2023-10-16');
    assert.equal('model' in body, false);
    const [r] = await h.store.queryAudit({ limit: 1 });
    assert.equal(r?.upstream, 'gcp');
    assert.equal(r?.cacheReadInputTokens, 100);
  });

  it("a key the token endpoint refuses: 502 naming Vertex AI and the endpoint's reason, no key material", async () => {
    const gcp = await startVertexStandin({ project: 'my-project', region: 'global' });
    running.push(gcp);
    const other = testServiceAccount(`${gcp.url}/token`, 'my-project');
    // The same account's name with another private key: the assertion's signature cannot verify.
    const forged = { ...other.keyFile, client_email: gcp.account.keyFile.client_email ?? '' };
    const h = await vertexGateway(gcp, await keyFile(forged));
    await assert.rejects(sdk(h).messages.create(ask), (e: InstanceType<typeof Anthropic.APIError>) => {
      assert.equal(e.status, 502);
      assert.match(said(e), /credentials for Google Vertex AI \(upstream "gcp"/);
      assert.match(said(e), /invalid JWT signature/);
      assert.ok(!said(e).includes('PRIVATE KEY'));
      return true;
    });
    assert.deepEqual(gcp.refused, ['invalid JWT signature']);
  });

  it('RESOURCE_EXHAUSTED comes back as a 429 with the reason', async () => {
    const gcp = await startVertexStandin({ project: 'p', region: 'us-east5' });
    running.push(gcp);
    const h = await vertexGateway(gcp, await keyFile(gcp.account.keyFile), 'us-east5', 'p');
    gcp.failNext.push({
      status: 429,
      name: 'RESOURCE_EXHAUSTED',
      message: 'Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model.',
    });
    await assert.rejects(sdk(h).messages.create(ask), (e: InstanceType<typeof Anthropic.APIError>) => {
      assert.equal(e.status, 429);
      assert.match(said(e), /Google Vertex AI .* is throttling .*RESOURCE_EXHAUSTED: Quota exceeded/);
      return true;
    });
  });
});

describe('a Microsoft Foundry upstream', () => {
  it('sends the Messages request under /anthropic with its API key and Foundry model name', async () => {
    const azure = await startFoundryStandin({ apiKey: 'foundry-key' });
    const h = await startHarness('{ upstream: azure }', {
      upstreams: `  azure: { provider: foundry, baseUrl: "${azure.url}/anthropic", apiKey: "\${FOUNDRY_API_KEY}" }`,
      env: { FOUNDRY_API_KEY: 'foundry-key' },
    });
    running.push(azure, h);
    const message = await sdk(h)
      .messages.stream({ ...ask, model: 'claude-sonnet-4-5-20250929' })
      .finalMessage();
    assert.equal(message.content[0]?.type, 'text');
    const seen = azure.seen.at(-1);
    assert.equal(seen?.url, '/anthropic/v1/messages');
    assert.equal(seen?.headers['x-api-key'], 'foundry-key');
    assert.equal((JSON.parse(String(seen?.body)) as { model: string }).model, 'claude-sonnet-4-5');
  });

  it('without an API key, sends a Microsoft Entra ID token from the credential chain', async () => {
    const azure = await startFoundryStandin({ apiKey: 'unused', entraToken: 'entra-token-1' });
    const scopes: string[] = [];
    const h = await startHarness('{ upstream: azure }', {
      upstreams: `  azure: { provider: foundry, baseUrl: "${azure.url}/anthropic" }`,
      cloud: {
        azure: () => ({
          getToken: async (scope: string | string[]) => {
            scopes.push(String(scope));
            return { token: 'entra-token-1', expiresOnTimestamp: Date.now() + 3_600_000 };
          },
        }),
      },
    });
    running.push(azure, h);
    await sdk(h).messages.create(ask);
    assert.equal(azure.seen.at(-1)?.headers.authorization, 'Bearer entra-token-1');
    assert.deepEqual(scopes, ['https://ai.azure.com/.default']);
  });
});
