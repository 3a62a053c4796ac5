/**
 * The git credential proxy: git smart HTTP for one sandboxed session, served on a Unix socket that
 * only that sandbox can reach. It holds the forge token, which never enters the sandbox:
 *
 * - clone and fetch (upload-pack) of the session's repository are relayed to the forge with the
 *   token added; any other path is refused;
 * - a push (receive-pack) may update only the session's own branch, never delete it; the proxy
 *   reads the command list first and refuses anything else with a report the client prints. An
 *   update it lets through goes into the session's mirror (see mirror.ts), where git refuses a
 *   non-fast-forward update; only what git accepted is pushed on to the forge.
 *
 * Every operation, and every refusal, is handed to `record` with who, what and the result.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { basename, dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { errors, type SluiceError } from '../errors/catalog.js';
import { runHttpBackend } from './git-cgi.js';
import { ISOLATED_GIT_ENV, type SessionMirror } from './mirror.js';
import {
  PktLineError,
  readFetchRequest,
  readPushHead,
  readReport,
  refusal,
  ZERO_OID,
  type PushHead,
  type RefUpdate,
} from './pkt-line.js';

/** One git operation through the proxy, for the audit log. */
export interface GitOperation {
  operation: 'clone' | 'fetch' | 'push' | 'request';
  /** `ok`, or why it did not happen. */
  result: string;
  refs?: RefUpdate[];
  wants?: number;
  haves?: number;
  /** The HTTP request, for refusals before any git protocol was read. */
  request?: string;
}

export interface GitProxyOptions {
  /** The repository on the forge, as configured (`https://github.com/acme/widgets.git`). */
  repository: string;
  /** The name the sandbox clones it as: `/<name>.git`. */
  name: string;
  /** The one ref a push may update: `refs/heads/claude/<session>`. */
  branch: string;
  /** The sandbox's own Sluice key, which git inside sends as `Authorization: Bearer`. */
  sessionKey: string;
  /** Who the session belongs to (the receive-pack user in the mirror). */
  user: string;
  credentials: { username: string; token: string };
  mirror: SessionMirror;
  /** Largest request body accepted for a fetch negotiation, bytes. */
  maxFetchRequestBytes?: number;
  record: (op: GitOperation) => void;
  git?: string;
}

export interface RunningGitProxy {
  close(): Promise<void>;
}

type Route =
  | { kind: 'advertise'; service: 'git-upload-pack' | 'git-receive-pack' }
  | { kind: 'rpc'; service: 'git-upload-pack' | 'git-receive-pack' };

/** The smart-HTTP request `method url` is, for the repository served as `/<name>.git`, or an error. */
export function routeGitRequest(method: string, url: string, name: string): Route | SluiceError {
  const u = new URL(url, 'http://sandbox');
  const prefix = `/${name}.git/`;
  if (!u.pathname.startsWith(prefix))
    return errors.gitNotFound(`this session serves only the repository ${prefix.slice(0, -1)}`);
  const rest = u.pathname.slice(prefix.length);
  const service = u.searchParams.get('service');
  if (rest === 'info/refs' && method === 'GET') {
    if (service === 'git-upload-pack' || service === 'git-receive-pack')
      return { kind: 'advertise', service };
    return errors.gitBadRequest('only smart HTTP is served (git 1.6.6 or later)');
  }
  if ((rest === 'git-upload-pack' || rest === 'git-receive-pack') && method === 'POST')
    return { kind: 'rpc', service: rest };
  return errors.gitNotFound(`${method} ${u.pathname} is not a git smart-HTTP request`);
}

/** Why the proxy refuses a push's `updates` before reading its objects, or null. */
export function pushRefusal(updates: RefUpdate[], branch: string): string | null {
  if (!updates.length) return 'a push with no ref updates';
  const other = updates.find((u) => u.ref !== branch);
  if (other) return `this session may push only to ${branch}, not ${other.ref} (Sluice sandbox policy)`;
  if (updates.length > 1) return `${branch} is named more than once`;
  if (ZERO_OID.test(updates[0]?.newOid ?? ''))
    return `deleting ${branch} is not allowed (Sluice sandbox policy)`;
  return null;
}

function sendError(res: ServerResponse, e: SluiceError): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(e.status, { 'content-type': 'application/json', ...e.headers });
  res.end(e.body());
}

/** Reads `stream` into memory, failing past `max` bytes. */
async function collect(stream: AsyncIterable<Buffer>, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    n += c.length;
    if (n > max) throw new Error(`more than ${max} bytes`);
    parts.push(c);
  }
  return Buffer.concat(parts);
}

/** Starts the proxy on the Unix socket `path`. */
export async function startGitProxy(options: GitProxyOptions, path: string): Promise<RunningGitProxy> {
  const proxy = new GitProxy(options);
  const server: Server = createServer((req, res) => {
    proxy.handle(req, res).catch((err: Error) => {
      options.record({ operation: 'request', result: `failed: ${err.message}`, request: describe(req) });
      sendError(res, errors.gitForgeUnreachable(options.repository));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  return {
    close: async () => {
      proxy.abort.abort();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** One session's proxy: each method is one kind of request. */
class GitProxy {
  /** Ends the forge requests and git processes of a session that is over. */
  readonly abort = new AbortController();
  private readonly expected: Buffer;

  constructor(private readonly options: GitProxyOptions) {
    this.expected = Buffer.from(`Bearer ${options.sessionKey}`);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { options } = this;
    const presented = Buffer.from(req.headers.authorization ?? '');
    if (presented.length !== this.expected.length || !timingSafeEqual(presented, this.expected)) {
      options.record({ operation: 'request', result: 'refused: no session key', request: describe(req) });
      return sendError(res, errors.gitAuthRequired());
    }
    const route = routeGitRequest(req.method ?? 'GET', req.url ?? '/', options.name);
    if ('status' in route) {
      options.record({ operation: 'request', result: `refused: ${route.message}`, request: describe(req) });
      return sendError(res, route);
    }
    if (route.service === 'git-upload-pack') return this.relayUploadPack(req, res, route.kind);
    return route.kind === 'advertise' ? this.advertiseReceivePack(req, res) : this.receivePack(req, res);
  }

  /** Clone and fetch: the request goes to the forge with the token; the answer streams back. */
  private async relayUploadPack(req: IncomingMessage, res: ServerResponse, kind: Route['kind']) {
    const { options } = this;
    const body =
      kind === 'rpc' ? await collect(req, options.maxFetchRequestBytes ?? 16 * 1024 * 1024) : undefined;
    const target =
      options.repository.replace(/\/+$/, '') +
      (kind === 'rpc' ? '/git-upload-pack' : '/info/refs?service=git-upload-pack');
    const headers: Record<string, string> = {
      authorization: basicAuth(options.credentials),
      'user-agent': String(req.headers['user-agent'] ?? 'git/sluice'),
    };
    for (const h of ['git-protocol', 'content-type', 'content-encoding', 'accept'])
      if (typeof req.headers[h] === 'string') headers[h] = req.headers[h];
    const upstream = await request(target, {
      method: kind === 'rpc' ? 'POST' : 'GET',
      headers,
      ...(body ? { body } : {}),
      signal: this.abort.signal,
    });
    const operation = body ? fetchOperation(body, req.headers['content-encoding']) : null;
    if (upstream.statusCode !== 200) {
      await upstream.body.dump();
      if (operation) options.record({ ...operation, result: `forge answered ${upstream.statusCode}` });
      return sendError(res, errors.gitForgeRefused(options.repository, upstream.statusCode));
    }
    const out: Record<string, string> = { 'cache-control': 'no-cache' };
    for (const h of ['content-type', 'content-encoding'])
      if (typeof upstream.headers[h] === 'string') out[h] = upstream.headers[h];
    res.writeHead(200, out);
    await pipeline(upstream.body, res);
    if (operation?.command === 'fetch') {
      const { command: _command, ...op } = operation;
      options.record({ ...op, result: 'ok' });
    }
  }

  /** The ref advertisement for a push: the mirror's, brought to the forge's state first. */
  private async advertiseReceivePack(req: IncomingMessage, res: ServerResponse) {
    const { mirror, repository, record } = this.options;
    const refreshed = await mirror.exclusive(() => mirror.refresh());
    if (!refreshed.ok) {
      record({ operation: 'push', result: `forge fetch failed: ${firstLine(refreshed.stderr)}` });
      return sendError(res, errors.gitForgeRefused(repository, 502));
    }
    const cgi = await this.mirrorBackend(null, req);
    res.writeHead(cgi.status, cgi.headers);
    await pipeline(cgi.body, res);
  }

  /** A push: its command list is read and judged before any of its objects. */
  private async receivePack(req: IncomingMessage, res: ServerResponse) {
    const { options } = this;
    const input: AsyncIterable<Buffer> =
      req.headers['content-encoding'] === 'gzip' ? req.pipe(createGunzip()) : req;
    const iterator = input[Symbol.asyncIterator]();
    let buffered = Buffer.alloc(0);
    let head: PushHead | null = null;
    try {
      while (!head) {
        const next = await iterator.next();
        if (next.done) throw new PktLineError('the request ended inside its command list');
        buffered = Buffer.concat([buffered, next.value]);
        if (buffered.length > 1024 * 1024) throw new PktLineError('command list longer than 1 MiB');
        head = readPushHead(buffered);
      }
    } catch (err) {
      options.record({ operation: 'push', result: `refused: ${(err as Error).message}` });
      return sendError(res, errors.gitBadRequest(`not a push request: ${(err as Error).message}`));
    }
    const refs = head.updates;
    const why = pushRefusal(refs, options.branch);
    if (why) {
      // Read the rest, so the client gets the report instead of a broken pipe.
      for (let n = await iterator.next(); !n.done; n = await iterator.next());
      options.record({ operation: 'push', refs, result: `refused: ${why}` });
      return sendResult(res, refusal(refs, head.capabilities, `sluice: ${why}`));
    }
    const rest = Readable.from(
      (async function* () {
        yield buffered;
        for (let n = await iterator.next(); !n.done; n = await iterator.next()) yield n.value;
      })(),
    );
    const accepted = head;
    await options.mirror.exclusive(() => this.pushThroughMirror(res, accepted, rest));
  }

  /** The push into the mirror (git checks fast-forward there), then on to the forge. */
  private async pushThroughMirror(res: ServerResponse, head: PushHead, body: Readable) {
    const { mirror, record } = this.options;
    const update = head.updates[0] as RefUpdate;
    const refs = head.updates;
    const cgi = await this.mirrorBackend(body);
    const answer = await collect(cgi.body, 4 * 1024 * 1024);
    await cgi.exited;
    const report = readReport(answer, head.capabilities);
    if ((await mirror.refValue(update.ref)) !== update.newOid) {
      const reason =
        report?.refs[0]?.reason ?? (report ? `unpack ${report.unpack}` : 'the mirror did not update');
      record({ operation: 'push', refs, result: `refused: ${reason}` });
      return sendResult(res, answer, cgi.headers['content-type']);
    }
    const pushed = await mirror.pushUpstream(update.newOid, update.ref);
    if (!pushed.ok) {
      await mirror.rollback(update.ref, ZERO_OID.test(update.oldOid) ? null : update.oldOid, update.newOid);
      const why = `the forge refused the push: ${firstLine(pushed.stderr || pushed.stdout)}`;
      record({ operation: 'push', refs, result: `failed: ${why}` });
      return sendResult(res, refusal(refs, head.capabilities, `sluice: ${why}`));
    }
    record({ operation: 'push', refs, result: 'ok' });
    sendResult(res, answer, cgi.headers['content-type']);
  }

  /** `git http-backend` on the mirror: the push advertisement (no body) or a push. */
  private mirrorBackend(body: Readable | null, req?: IncomingMessage) {
    const { mirror, git, user } = this.options;
    const service = 'git-receive-pack';
    return runHttpBackend(
      {
        projectRoot: dirname(mirror.dir),
        path: mirror.path,
        env: ISOLATED_GIT_ENV,
        signal: this.abort.signal,
        ...(git ? { git } : {}),
      },
      {
        method: body ? 'POST' : 'GET',
        pathInfo: body ? `/${basename(mirror.dir)}/${service}` : `/${basename(mirror.dir)}/info/refs`,
        query: body ? '' : `service=${service}`,
        contentType: body ? `application/x-${service}-request` : undefined,
        gitProtocol:
          typeof req?.headers['git-protocol'] === 'string' ? req.headers['git-protocol'] : undefined,
        remoteUser: user,
        body,
      },
    );
  }
}

function sendResult(res: ServerResponse, body: Buffer, type = 'application/x-git-receive-pack-result') {
  res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' });
  res.end(body);
}

function basicAuth(c: { username: string; token: string }): string {
  return `Basic ${Buffer.from(`${c.username}:${c.token}`).toString('base64')}`;
}

function describe(req: IncomingMessage): string {
  return `${req.method ?? '?'} ${(req.url ?? '').slice(0, 200)}`;
}

function firstLine(text: string): string {
  return (text.split('\n').find((l) => l.trim()) ?? 'no message').trim().slice(0, 300);
}

/** The audit view of an upload-pack request body (gzip as git sends large ones). */
function fetchOperation(
  body: Buffer,
  encoding: string | string[] | undefined,
): (GitOperation & { command: string }) | null {
  try {
    const plain = encoding === 'gzip' ? gunzipBounded(body) : body;
    const { command, wants, haves } = readFetchRequest(plain);
    return { operation: haves === 0 ? 'clone' : 'fetch', command, wants, haves, result: '' };
  } catch {
    return { operation: 'fetch', command: 'fetch', result: '' };
  }
}

function gunzipBounded(body: Buffer): Buffer {
  return gunzipSync(body, { maxOutputLength: 64 * 1024 * 1024 });
}
