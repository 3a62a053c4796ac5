/**
 * A session's services on the host, each on a Unix socket in the session's sockets folder (the
 * folder the sandbox sees at /run/sluice/sockets, and its only way out):
 * - `gateway.sock`: bytes to and from the model gateway;
 * - `egress.sock`: an egress proxy of the session's own, deciding by the org's sandbox egress rules
 *   (nothing else leaves), recording every attempt in the store like the shared one;
 * - `git.sock`: the git credential proxy for the session's repository;
 * - `transcript.sock`: the transcript hand-over, when the org keeps transcripts.
 */
import { chown } from 'node:fs/promises';
import { join } from 'node:path';
import type { OrgConfig, SluiceConfig } from '../control/config.js';
import { startEgressProxy } from '../egress/proxy.js';
import { startBridge } from './bridge.js';
import { startGitProxy, type GitOperation } from './git-proxy.js';
import { SessionMirror } from './mirror.js';
import type { ResolvedSandbox } from './policy.js';
import { repositoryName } from './repository.js';
import type { SandboxHost, SandboxOutcome } from './session.js';
import { receiveTranscripts, type TranscriptFile } from './transcript.js';

export interface SessionServices {
  /** The transcript files handed over (none when the org keeps none or the hand-over did not complete). */
  transcript(): Promise<TranscriptFile[]>;
  close(): Promise<void>;
}

/** The configuration the session's egress proxy runs on: the org with its sandbox egress rules only. */
export function sandboxEgressConfig(config: SluiceConfig, resolved: ResolvedSandbox): SluiceConfig {
  const { profile: _profile, ...rest } = resolved.org;
  const org: OrgConfig = { ...rest, egress: { ...resolved.policy.egress } };
  return {
    ...config,
    egress: {
      host: '127.0.0.1',
      port: 0,
      idleTimeoutMs: config.egress?.idleTimeoutMs ?? 300_000,
      maxConnections: config.egress?.maxConnections ?? 256,
    },
    orgs: { [resolved.orgName]: org },
  };
}

const MAX_TRANSCRIPT_BYTES = 64 * 1024 * 1024;

interface SessionServicesInput {
  host: SandboxHost;
  resolved: ResolvedSandbox;
  session: string;
  user: string;
  branch: string;
  key: string;
  runDir: string;
  log: (action: string, target: string, details: Record<string, unknown>) => Promise<unknown>;
  outcome: SandboxOutcome;
}

export async function startSessionServices(o: SessionServicesInput): Promise<SessionServices> {
  const { host, resolved } = o;
  const sockets = join(o.runDir, 'sockets');
  const closers: (() => Promise<unknown>)[] = [];
  const pending: Promise<unknown>[] = [];
  try {
    const gateway = await startBridge({ path: join(sockets, 'gateway.sock') }, host.gateway);
    closers.push(() => gateway.close());
    const egress = await startEgressProxy({
      config: sandboxEgressConfig(host.config, resolved),
      store: host.store,
      logger: { warn: (_f, m) => host.status(m), error: (_f, m) => host.status(m) },
    });
    closers.push(() => egress.close());
    const egressBridge = await startBridge(
      { path: join(sockets, 'egress.sock') },
      { host: '127.0.0.1', port: egress.port },
    );
    closers.push(() => egressBridge.close());
    const abort = new AbortController();
    closers.push(async () => abort.abort());
    const git = await startSessionGit(o, join(sockets, 'git.sock'), abort.signal, pending);
    closers.push(() => git.close());
    const transcripts = resolved.transcript.keep
      ? await receiveTranscripts(join(sockets, 'transcript.sock'), MAX_TRANSCRIPT_BYTES)
      : null;
    if (host.identity)
      for (const name of [
        'gateway.sock',
        'egress.sock',
        'git.sock',
        ...(transcripts ? ['transcript.sock'] : []),
      ])
        await chown(join(sockets, name), host.identity.uid, host.identity.gid);
    return {
      transcript: async () => (transcripts ? (await transcripts.finish()).files : []),
      close: async () => {
        for (const c of closers.reverse()) await c();
        await Promise.all(pending);
      },
    };
  } catch (err) {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    throw err;
  }
}

/** The git proxy on `socket`: the session's one branch, through a mirror, each operation logged. */
function startSessionGit(
  o: SessionServicesInput,
  socket: string,
  signal: AbortSignal,
  pending: Promise<unknown>[],
) {
  const { resolved } = o;
  const credentials = { username: resolved.forge.username, token: resolved.token };
  return startGitProxy(
    {
      repository: resolved.repository,
      name: repositoryName(resolved.repository),
      branch: `refs/heads/${o.branch}`,
      sessionKey: o.key,
      user: o.user,
      credentials,
      mirror: new SessionMirror({
        dir: join(o.runDir, 'mirror.git'),
        url: resolved.repository,
        credentials,
        maxPushBytes: resolved.policy.limits.diskMb * 1024 * 1024,
        path: o.host.env.PATH ?? '/usr/bin:/bin',
        signal,
      }),
      record: (op: GitOperation) => {
        o.outcome.git.push({ operation: op.operation, result: op.result });
        pending.push(
          o.log(`sandbox.git.${op.operation}`, resolved.repository, {
            session: o.session,
            user: o.user,
            ...op,
          }),
        );
      },
    },
    socket,
  );
}
