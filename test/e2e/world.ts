/**
 * What the real-client tests set up again and again: a temporary folder holding the client's home
 * and project and a gateway folder whose sluice.yaml points at a stand-in upstream; and the scripted
 * model that reads .env through the client's Read tool.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandin, type ParsedRequest, type Reply } from '../../src/gateway/testing/standin.js';
import { cleanEnv, createKeyCli, serve, type Served } from './processes.js';

export interface ClientWorld {
  dir: string;
  /** The client's HOME and working folder. */
  home: string;
  project: string;
  /** Where `sluice` runs: its sluice.yaml and .sluice/. */
  gatewayDir: string;
  standin: Awaited<ReturnType<typeof startStandin>>;
  /** The real upstream key the gateway holds (ANTHROPIC_API_KEY of `sluice serve`). */
  upstreamKey: string;
}

/**
 * A new world under `prefix`; `rest` is the sluice.yaml after its server, storage and upstreams
 * (`orgs:` and anything else). Everything is closed and removed through `cleanups`.
 */
export async function clientWorld(
  prefix: string,
  rest: string,
  cleanups: (() => Promise<unknown>)[],
): Promise<ClientWorld> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const world = {
    dir,
    home: join(dir, 'home'),
    project: join(dir, 'project'),
    gatewayDir: join(dir, 'gateway'),
  };
  await Promise.all([mkdir(world.home), mkdir(world.project), mkdir(world.gatewayDir)]);
  const upstreamKey = `sk-ant-${randomBytes(12).toString('hex')}`;
  const standin = await startStandin(upstreamKey);
  cleanups.push(() => standin.close());
  await writeFile(
    join(world.gatewayDir, 'sluice.yaml'),
    `server: { host: 127.0.0.1, port: 0 }
storage: sqlite:./.sluice/sluice.db
upstreams:
  anthropic: { provider: anthropic, baseUrl: "${standin.url}", apiKey: "\${ANTHROPIC_API_KEY}" }
${rest}`,
  );
  return { ...world, standin, upstreamKey };
}

/** `sluice serve` in the world's gateway folder, holding the upstream key; stopped through `cleanups`. */
export async function serveWorld(world: ClientWorld, cleanups: (() => Promise<unknown>)[]): Promise<Served> {
  const served = await serve(world.gatewayDir, [], cleanEnv({ ANTHROPIC_API_KEY: world.upstreamKey }));
  cleanups.push(() => served.stop());
  return served;
}

/** A key for `user` of `org`, made with `sluice keys create` in the world's gateway folder. */
export const worldKey = (world: ClientWorld, org: string, user: string) =>
  createKeyCli(world.gatewayDir, org, user);

/** Text of every tool_result in a request. */
export function toolResults(request: ParsedRequest): string {
  let out = '';
  for (const m of request.messages)
    if (Array.isArray(m.content))
      for (const b of m.content as { type: string; content?: unknown }[])
        if (b.type === 'tool_result') out += JSON.stringify(b.content);
  return out;
}

/**
 * A model that, asked to read .env, calls the client's Read tool on it, then "summarises" by
 * quoting what it received: whatever reached the upstream is what the client prints.
 */
export function readEnvModel(envPath: string) {
  return (request: ParsedRequest): Reply => {
    const results = toolResults(request);
    if (results) return { content: [{ type: 'text', text: `Summary of what I was shown: ${results}` }] };
    if (JSON.stringify(request.messages).includes('read .env'))
      return { content: [{ type: 'tool_use', name: 'Read', input: { file_path: envPath } }] };
    return { content: [{ type: 'text', text: 'ok' }] };
  };
}
