/**
 * The real Claude Code CLI on every cloud route Sluice serves: a client of the Anthropic API whose
 * org goes to Bedrock, and clients in Bedrock's, Vertex AI's and Foundry's own formats, each
 * completing a tool-use turn that reads a .env through Sluice. No planted secret reaches a cloud,
 * and no credential (the AWS keys, the service account's private key, its tokens, the Foundry key)
 * is in anything the gateway wrote.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  awsTestCredentials,
  startBedrockStandin,
  startFoundryStandin,
  startVertexStandin,
  type CloudStandin,
  type VertexStandin,
} from '../../src/gateway/testing/clouds.js';
import { plantedEnv, type Planted } from '../../src/gateway/testing/planted.js';
import type { SeenRequest, Standin } from '../../src/gateway/testing/standin.js';
import { cleanEnv, createKeyCli, runClaude, serve, sluice, type Served } from './processes.js';
import { readEnvModel } from './world.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface World {
  dir: string;
  gatewayDir: string;
  envPath: string;
  secrets: Planted[];
  credentials: string[];
  aws: CloudStandin;
  gcp: VertexStandin;
  azure: Standin;
  served: Served;
  keys: Record<string, string>;
}

let world: World;

before(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-clouds-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const gatewayDir = join(dir, 'gateway');
  await Promise.all([mkdir(join(dir, 'project')), mkdir(gatewayDir)]);
  const { secrets, env } = plantedEnv();
  const envPath = join(dir, 'project', '.env');
  await writeFile(envPath, env);
  const awsCreds = awsTestCredentials();
  const aws = await startBedrockStandin({ region: 'us-east-1', credentials: awsCreds });
  const gcp = await startVertexStandin({ project: 'my-project', region: 'global' });
  const foundryKey = `foundry-${Math.random().toString(36).slice(2)}`;
  const azure = await startFoundryStandin({ apiKey: foundryKey });
  cleanups.push(
    () => aws.close(),
    () => gcp.close(),
    () => azure.close(),
  );
  for (const s of [aws.inner, gcp.inner, azure]) s.respond = readEnvModel(envPath);
  await writeFile(join(gatewayDir, 'sa.json'), JSON.stringify(gcp.account.keyFile), { mode: 0o600 });
  const org = (upstream: string) =>
    `{ upstream: ${upstream}, contentLogging: redacted, guard: { secrets: redact, pii: log }, budgets: { perUser: { daily: 50 } } }`;
  await writeFile(
    join(gatewayDir, 'sluice.yaml'),
    `server: { host: 127.0.0.1, port: 0 }
storage: sqlite:./.sluice/sluice.db
upstreams:
  aws: { provider: bedrock, region: us-east-1, baseUrl: "${aws.url}" }
  gcp: { provider: vertex, project: my-project, region: global, baseUrl: "${gcp.url}/v1", credentials: ./sa.json }
  azure: { provider: foundry, baseUrl: "${azure.url}/anthropic", apiKey: "\${FOUNDRY_API_KEY}" }
orgs:
  via-bedrock: ${org('aws')}
  bedrock-client: ${org('aws')}
  vertex-client: ${org('gcp')}
  foundry-client: ${org('azure')}
  picky: { upstream: aws, models: [claude-haiku-4-5] }
`,
  );
  const keys: Record<string, string> = {};
  for (const o of ['via-bedrock', 'bedrock-client', 'vertex-client', 'foundry-client', 'picky'])
    keys[o] = createKeyCli(gatewayDir, o, `dev@${o}.test`);
  // The AWS SDK's default chain finds these in the gateway's environment, as on a real host.
  const served = await serve(
    gatewayDir,
    [],
    cleanEnv({
      AWS_ACCESS_KEY_ID: awsCreds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: awsCreds.secretAccessKey,
      FOUNDRY_API_KEY: foundryKey,
    }),
  );
  cleanups.push(() => served.stop());
  world = {
    dir,
    gatewayDir,
    envPath,
    secrets,
    credentials: [
      awsCreds.accessKeyId,
      awsCreds.secretAccessKey,
      foundryKey,
      gcp.account.keyFile.private_key ?? '',
    ],
    aws,
    gcp,
    azure,
    served,
    keys,
  };
});

async function run(name: string, route: Record<string, string>) {
  const home = join(world.dir, `home-${name}`);
  await mkdir(home, { recursive: true });
  return runClaude('read .env and summarise it', {
    cwd: join(world.dir, 'project'),
    home,
    baseUrl: world.served.url,
    key: '',
    model: 'claude-sonnet-4-5',
    route,
  });
}

function records(org: string) {
  const r = sluice(world.gatewayDir, ['logs', '--org', org, '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map(
      (l) =>
        JSON.parse(l) as {
          status: number;
          path: string;
          model: string;
          upstream: string;
          upstreamsTried: string[];
          costUsd: number | null;
          guard: { decision: string; rules: Record<string, number> };
        },
    );
}

/** The turn completed, the model was shown placeholders, the cloud got no secret, the record is whole. */
function check(
  org: string,
  upstream: string,
  out: { code: number | null; stdout: string; stderr: string },
  seen: SeenRequest[],
) {
  assert.equal(out.code, 0, out.stderr + out.stdout);
  assert.match(out.stdout, /Summary of what I was shown: .*GITHUB_TOKEN=\[REDACTED:github-pat:1\]/);
  assert.ok(
    seen.some((r) => r.body.includes('tool_result')),
    'the file went back in a tool_result',
  );
  for (const r of seen)
    for (const s of world.secrets) assert.ok(!r.body.includes(s.value), `${s.rule} reached ${upstream}`);
  const mine = records(org).filter((r) => r.status === 200 && r.model);
  assert.ok(mine.length >= 2, 'the tool_use turn and the answer are recorded');
  for (const r of mine) {
    assert.equal(r.upstream, upstream);
    assert.deepEqual(r.upstreamsTried, [upstream]);
    assert.ok((r.costUsd ?? 0) > 0, 'priced, and charged to the budget');
  }
  assert.ok(mine.some((r) => r.guard.decision === 'redact' && (r.guard.rules['github-pat'] ?? 0) >= 1));
  return mine;
}

describe('the real Claude Code CLI on every cloud route', () => {
  it('Anthropic API format, org on Bedrock: signed requests, event stream translated', async () => {
    const before = world.aws.seen.length;
    const out = await run('via-bedrock', {
      ANTHROPIC_BASE_URL: world.served.url,
      ANTHROPIC_API_KEY: world.keys['via-bedrock'] ?? '',
    });
    const seen = world.aws.seen.slice(before);
    check('via-bedrock', 'aws', out, seen);
    assert.deepEqual(world.aws.refused, []);
    assert.ok(
      seen.some(
        (r) => r.url === '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream',
      ),
    );
  });

  it("Bedrock's format (CLAUDE_CODE_USE_BEDROCK, Sluice key as ANTHROPIC_AUTH_TOKEN): answered in the event stream", async () => {
    const before = world.aws.seen.length;
    const out = await run('bedrock-client', {
      CLAUDE_CODE_USE_BEDROCK: '1',
      ANTHROPIC_BEDROCK_BASE_URL: world.served.url,
      CLAUDE_CODE_SKIP_BEDROCK_AUTH: '1',
      AWS_REGION: 'us-east-1',
      ANTHROPIC_AUTH_TOKEN: world.keys['bedrock-client'] ?? '',
    });
    check('bedrock-client', 'aws', out, world.aws.seen.slice(before));
    assert.ok(
      records('bedrock-client').some(
        (r) => r.path === '/model/claude-sonnet-4-5/invoke-with-response-stream',
      ),
    );
  });

  it("Vertex AI's format (CLAUDE_CODE_USE_VERTEX): the gateway's token minted from the service-account key", async () => {
    const before = world.gcp.seen.length;
    const out = await run('vertex-client', {
      CLAUDE_CODE_USE_VERTEX: '1',
      ANTHROPIC_VERTEX_BASE_URL: `${world.served.url}/v1`,
      CLAUDE_CODE_SKIP_VERTEX_AUTH: '1',
      ANTHROPIC_VERTEX_PROJECT_ID: 'my-project',
      CLOUD_ML_REGION: 'global',
      ANTHROPIC_AUTH_TOKEN: world.keys['vertex-client'] ?? '',
    });
    check('vertex-client', 'gcp', out, world.gcp.seen.slice(before));
    assert.deepEqual(world.gcp.refused, []);
    assert.ok(world.gcp.minted.length >= 1);
    world.credentials.push(...world.gcp.minted);
  });

  it("Foundry's format (CLAUDE_CODE_USE_FOUNDRY, Sluice key as ANTHROPIC_FOUNDRY_API_KEY)", async () => {
    const before = world.azure.seen.length;
    const out = await run('foundry-client', {
      CLAUDE_CODE_USE_FOUNDRY: '1',
      ANTHROPIC_FOUNDRY_BASE_URL: `${world.served.url}/anthropic`,
      ANTHROPIC_FOUNDRY_API_KEY: world.keys['foundry-client'] ?? '',
    });
    check('foundry-client', 'azure', out, world.azure.seen.slice(before));
  });

  it("Bedrock's format, a model the org's policy leaves out: shown at once, asked once, nothing sent", async () => {
    const before = world.aws.seen.length;
    const out = await run('picky', {
      CLAUDE_CODE_USE_BEDROCK: '1',
      ANTHROPIC_BEDROCK_BASE_URL: world.served.url,
      CLAUDE_CODE_SKIP_BEDROCK_AUTH: '1',
      AWS_REGION: 'us-east-1',
      ANTHROPIC_AUTH_TOKEN: world.keys.picky ?? '',
    });
    assert.notEqual(out.code, 0);
    assert.match(
      out.stdout + out.stderr,
      /Request rejected \(429\) · Sluice: org "picky" does not allow model "claude-sonnet-4-5" \(its model policy, orgs\.picky\.models, lists claude-haiku-4-5\)/,
    );
    assert.equal(records('picky').length, 1, 'not retried');
    assert.equal(world.aws.seen.length, before);
  });

  it('nothing the gateway wrote holds a planted secret or an upstream credential', async () => {
    await world.served.stop();
    const texts = [world.served.stderr(), world.served.lines.join('\n')];
    const files: string[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.name !== 'sa.json' && e.name !== 'sluice.yaml') {
          files.push(e.name);
          texts.push((await readFile(p)).toString('latin1'));
        }
      }
    };
    await walk(world.gatewayDir);
    assert.ok(files.includes('sluice.db'), `the store was written (${files.join(', ')})`);
    for (const s of world.secrets) assert.ok(!texts.some((t) => t.includes(s.value)), `${s.rule} kept`);
    for (const c of world.credentials.filter(Boolean))
      assert.ok(!texts.some((t) => t.includes(c)), `a credential (${c.slice(0, 8)}…) was written`);
  });
});
