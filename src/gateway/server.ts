/**
 * The gateway: the Anthropic Messages API surface, as named stages run once per request
 * (authenticate, authorize, inspect, forward, relay, account, record).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, errors as undiciErrors } from 'undici';
import type { OrgConfig, SluiceConfig, UpstreamConfig } from '../control/config.js';
import { cachedAuthenticator } from '../control/keys.js';
import { ScanCache } from '../guard/cache.js';
import type { PlaceholderVault } from '../guard/redact.js';
import { prepareScan } from '../guard/scan.js';
import type { AuditRecord, KeyRecord, Store } from '../store/types.js';
import { errors, SluiceError } from '../errors/catalog.js';
import { BodyError, BodyMemory, readMessagesBody, type MessagesBody } from './body.js';
import { guardScans, inspect as inspectRequest } from './inspect.js';
import { Limits } from './limits.js';
import { AdminApi } from './admin.js';
import { readLogs, readMetrics } from './otlp.js';
import { restoreMessage, SseRestorer } from './restore.js';
import { applyUsage, emptyUsage, SseUsageReader, type Usage } from './usage.js';

export interface GatewayLogger {
  debug?(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

export interface GatewayOptions {
  config: SluiceConfig;
  store: Store;
  logger?: GatewayLogger;
  now?: () => number;
  /** Wall clock for record times, budget periods and rate-limit minutes (tests move it). */
  clock?: () => Date;
}

export interface RunningGateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Request headers never forwarded: hop-by-hop, framing, and the client's own credentials. */
const DROP = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'x-api-key',
  'authorization',
  'accept-encoding',
]);
/** Response headers not relayed (framing is the gateway's own). */
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);
/** Routes that keep content on the upstream's servers, refused under zero data retention. */
const STORES_CONTENT = [/^\/v1\/files/, /^\/v1\/messages\/batches/];

interface RequestState {
  id: string;
  started: number;
  upstreamSentAt: number | null;
  key: KeyRecord | null;
  org: OrgConfig | null;
  record: AuditRecord;
  /** Placeholders to restore in the answer (org `restore: true` and something was redacted). */
  restore: PlaceholderVault | null;
}

const silent: GatewayLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { config, store } = options;
  const logger = options.logger ?? silent;
  const now = options.now ?? (() => performance.now());
  const clock = options.clock ?? (() => new Date());
  const previousBodies = new BodyMemory(64 * 1024 * 1024);
  const limits = new Limits(
    store,
    config,
    (err) => logger.error({ err: err.message }, 'usage counters not written'),
    () => clock().getTime(),
  );
  const admin = new AdminApi(config, store, clock);
  const pools = new Map<string, Pool>();
  const poolFor = (up: UpstreamConfig) => {
    let pool = pools.get(up.baseUrl);
    if (!pool) {
      pool = new Pool(new URL(up.baseUrl).origin, {
        connections: 128,
        headersTimeout: up.timeoutMs,
        bodyTimeout: up.timeoutMs,
      });
      pools.set(up.baseUrl, pool);
    }
    return pool;
  };
  const findKey = cachedAuthenticator(store);
  /** Findings by content, shared by every conversation: a resent history is never scanned twice. */
  const scanCache = new ScanCache(64 * 1024 * 1024);
  for (const [name, org] of Object.entries(config.orgs))
    if (org.guard.failOpen)
      logger.warn(
        { org: name },
        'guard fails open for this org: a request the guard cannot inspect in time is forwarded unscanned',
      );

  /** Stage: authenticate. The key comes as x-api-key or a bearer token. */
  async function authenticate(req: IncomingMessage): Promise<KeyRecord> {
    const header = req.headers['x-api-key'];
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const presented = (Array.isArray(header) ? header[0] : header) ?? bearer;
    if (!presented) throw errors.missingKey();
    const key = await findKey(presented);
    if (!key) throw errors.badKey();
    return key;
  }

  /** Stage: authorize. Route policy for the key's org. */
  function authorize(path: string, key: KeyRecord): OrgConfig {
    const org = config.orgs[key.org];
    if (!org) throw errors.badKey();
    if (org.zdr && STORES_CONTENT.some((re) => re.test(path))) throw errors.zdrForbidden(key.org, `${path}`);
    return org;
  }

  async function readBody(req: IncomingMessage): Promise<Buffer> {
    const limit = config.server.maxBodyBytes;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) throw errors.tooLarge(limit);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw errors.tooLarge(limit);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, size);
  }

  /**
   * Reads the body once for what the gateway needs; the bytes themselves are forwarded unchanged.
   * `conversation` names the body's conversation (key and session): the read starts from where its
   * previous body's identical bytes end.
   */
  function parseMessages(body: Buffer, needsGeneration: boolean, conversation: string): MessagesBody {
    try {
      const parsed = readMessagesBody(body, needsGeneration, previousBodies.get(conversation));
      previousBodies.set(conversation, parsed.resume);
      return parsed;
    } catch (err) {
      if (!(err instanceof BodyError)) throw err;
      throw err.malformed ? errors.malformedJson(err.message) : errors.notMessages(err.message);
    }
  }

  function upstreamHeaders(req: IncomingMessage, up: UpstreamConfig): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || DROP.has(name)) continue;
      out[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    out['x-api-key'] = up.apiKey;
    // Identity encoding lets the relay read usage from the bytes it passes on.
    out['accept-encoding'] = 'identity';
    return out;
  }

  /** Stages forward + relay + account: send upstream, stream the answer back, read usage. */
  async function forward(
    req: IncomingMessage,
    res: ServerResponse,
    state: RequestState,
    upstreamName: string,
    body: Buffer | undefined,
    stream: boolean,
  ): Promise<Usage> {
    const up = config.upstreams[upstreamName] as UpstreamConfig;
    const base = new URL(up.baseUrl);
    const abort = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) abort.abort();
    };
    res.on('close', onClose);
    state.record.upstream = upstreamName;
    state.upstreamSentAt = now();
    let upstream;
    try {
      upstream = await poolFor(up).request({
        method: req.method as 'POST' | 'GET',
        path: base.pathname.replace(/\/$/, '') + (req.url ?? '/'),
        headers: upstreamHeaders(req, up),
        body: body ?? null,
        signal: abort.signal,
      });
    } catch (err) {
      if (err instanceof undiciErrors.HeadersTimeoutError)
        throw errors.upstreamTimeout(upstreamName, base.host);
      throw errors.upstreamUnreachable(upstreamName, base.host);
    }
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(upstream.headers)) {
      if (value !== undefined && !DROP_RESPONSE.has(name)) headers[name] = value;
    }
    headers['x-sluice-overhead-ms'] = overhead(state).toFixed(2);
    res.writeHead(upstream.statusCode, headers);
    state.record.status = upstream.statusCode;
    const isSse = String(upstream.headers['content-type'] ?? '').includes('text/event-stream');
    const reader = isSse ? new SseUsageReader() : null;
    const kept: Buffer[] = [];
    let keptBytes = 0;
    const keep = state.org?.contentLogging === 'full' && !state.org.zdr;
    // Restore: placeholders back to values on the way to the client, streamed or whole.
    const restorer = state.restore && isSse ? new SseRestorer(state.restore) : null;
    const restoreWhole = state.restore && !isSse && upstream.statusCode < 300 ? state.restore : null;
    try {
      for await (const chunk of upstream.body as AsyncIterable<Buffer>) {
        reader?.push(chunk);
        if (!reader || keep) {
          if (keptBytes < 8 * 1024 * 1024 || restoreWhole) kept.push(chunk);
          keptBytes += chunk.length;
        }
        if (restoreWhole) continue;
        const out = restorer ? restorer.push(chunk) : chunk;
        if (out.length && !res.write(out)) await waitDrain(res);
      }
      if (restorer) res.write(restorer.end());
      if (restoreWhole) res.write(restoreMessage(Buffer.concat(kept).toString('utf8'), restoreWhole).body);
    } catch (err) {
      if (abort.signal.aborted) {
        state.record.errorType = 'client_closed';
        return reader?.usage ?? emptyUsage();
      }
      // The upstream failed after the status line: tell the client in the stream's own terms.
      state.record.errorType = 'upstream_stream_error';
      logger.error({ id: state.id, err: (err as Error).name }, 'upstream failed mid-response');
      if (isSse || stream) {
        res.write(errors.upstreamStream(upstreamName, base.host).sseEvent());
      }
    } finally {
      res.off('close', onClose);
      res.end();
    }
    if (reader?.errorType) state.record.errorType = reader.errorType;
    const text = Buffer.concat(kept).toString('utf8');
    if (keep) state.record.responseContent = text;
    if (reader) return reader.usage;
    const usage = emptyUsage();
    if (upstream.statusCode >= 400) {
      try {
        state.record.errorType = (JSON.parse(text) as { error?: { type?: string } }).error?.type ?? null;
      } catch {
        state.record.errorType = 'upstream_error';
      }
      return usage;
    }
    try {
      applyUsage(usage, (JSON.parse(text) as { usage?: Record<string, number> }).usage);
    } catch {
      // Not JSON (or cut at the kept-bytes cap): no usage to read.
    }
    return usage;
  }

  /**
   * Stage: inspect. Scans what reaches the model and applies the org's guard actions; returns the
   * body to forward (the same bytes unless something was redacted). Fails closed unless the org
   * chose to fail open.
   */
  function inspect(state: RequestState, org: OrgConfig, parsed: MessagesBody, body: Buffer): Buffer {
    const orgName = state.record.org ?? '?';
    const keepContent = !org.zdr && org.contentLogging !== 'none';
    if (!guardScans(org)) return body;
    let result;
    try {
      const previous = parsed.previous?.results;
      result = inspectRequest(
        body,
        parsed.content,
        org,
        scanCache,
        Date.now() + org.guard.timeoutMs,
        previous ? { results: previous, ...parsed.reused } : undefined,
      );
      parsed.resume.results = result.results;
    } catch (err) {
      if (err instanceof BodyError) throw errors.malformedJson(err.message);
      const reason =
        (err as Error).name === 'GuardTimeoutError'
          ? `the scan ran past its ${org.guard.timeoutMs} ms budget`
          : 'the scanner failed';
      if (!org.guard.failOpen) {
        state.record.guard = { decision: 'error', rules: {} };
        throw errors.guardFailed(orgName, reason);
      }
      state.record.guard = { decision: 'fail-open', rules: {} };
      logger.warn({ id: state.id, org: orgName }, `guard failed open: ${reason}; forwarded unscanned`);
      return body;
    }
    state.record.guard = { decision: result.decision, rules: result.rules };
    // The stored copy never holds a detected value, whatever the actions.
    if (keepContent) state.record.requestContent = result.stored();
    if (result.decision === 'block') throw errors.guardBlocked(orgName, result.rules, result.blockedRules);
    if (org.restore && result.vault.size > 0) state.restore = result.vault;
    return result.forwarded;
  }

  function overhead(state: RequestState): number {
    return (state.upstreamSentAt ?? now()) - state.started;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = now();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const state: RequestState = {
      id: `req_${randomUUID().replace(/-/g, '')}`,
      started,
      upstreamSentAt: null,
      key: null,
      org: null,
      record: blankRecord(req, path, clock()),
      restore: null,
    };
    state.record.id = state.id;
    if (path === '/healthz' && req.method === 'GET') {
      try {
        await store.ping();
        return reply(res, 200, '{"status":"ok"}', started);
      } catch {
        return reply(res, 503, '{"status":"store unreachable"}', started);
      }
    }
    if (path === '/api/hello' && (req.method === 'HEAD' || req.method === 'GET'))
      return reply(res, 200, '', started);
    if (req.method === 'POST' && (path === '/v1/metrics' || path === '/v1/logs' || path === '/v1/traces'))
      return telemetry(req, res, path, started);
    if (path.startsWith('/admin/v1/')) {
      try {
        const answer = await admin.handle(req, path, () => readBody(req));
        return reply(res, answer.status, JSON.stringify(answer.body), started);
      } catch (err) {
        const e = err instanceof SluiceError ? err : null;
        if (!e) logger.error({ id: state.id, err: (err as Error).message }, 'admin request failed');
        const ge = e ?? errors.adminUnavailable();
        return reply(res, ge.status, ge.body(), started, ge.headers);
      }
    }
    try {
      const key = await authenticate(req);
      state.key = key;
      Object.assign(state.record, { org: key.org, user: key.user, keyId: key.id });
      const org = authorize(path, key);
      state.org = org;
      const route = `${req.method} ${path}`;
      let body: Buffer | undefined;
      let stream = false;
      if (route === 'POST /v1/messages' || route === 'POST /v1/messages/count_tokens') {
        body = await readBody(req);
        const parsed = parseMessages(
          body,
          route === 'POST /v1/messages',
          `${key.id}\u0000${state.record.sessionId ?? ''}`,
        );
        state.record.model = parsed.model;
        stream = parsed.stream;
        state.record.stream = stream;
        // Stage: limit. Only generation costs money; count_tokens is free and Claude Code calls it often.
        if (route === 'POST /v1/messages')
          await limits.check(key.org, org, key.user, parsed.model, clock()).catch((err: unknown) => {
            if (err instanceof SluiceError) throw err;
            // Fail closed: a limit that cannot be checked is not waived.
            logger.error({ id: state.id, err: (err as Error).message }, 'limits not checked');
            throw errors.limitsUnavailable(key.org);
          });
        body = inspect(state, org, parsed, body);
      } else if (!(route === 'GET /v1/models')) {
        throw errors.notFound(req.method ?? 'GET', path);
      }
      const usage = await forward(req, res, state, org.upstream, body, stream);
      Object.assign(state.record, usage);
      if (route === 'POST /v1/messages') {
        try {
          state.record.costUsd = await limits.account(
            key.org,
            org,
            key.user,
            state.record.model,
            usage,
            clock(),
          );
        } catch (err) {
          logger.error({ id: state.id, err: (err as Error).message }, 'usage not counted');
        }
      }
    } catch (err) {
      const e = err instanceof SluiceError ? err : null;
      if (!e) logger.error({ id: state.id, err: (err as Error).name }, 'request failed');
      if (!res.headersSent) {
        const ge = e ?? errors.upstreamUnreachable(state.org?.upstream ?? '?', '?');
        state.record.status = ge.status;
        state.record.errorType = ge.type;
        reply(res, ge.status, ge.body(), started, ge.headers);
      } else if (!res.writableEnded) res.end();
    } finally {
      state.record.latencyMs = now() - started;
      state.record.overheadMs = overhead(state);
      await record(state);
    }
  }

  /**
   * The OTLP/HTTP receiver for Claude Code's own telemetry, attributed by the Sluice key in the
   * exporter's headers. Metrics and event counts are kept (see otlp.ts); traces are accepted and
   * dropped. No audit record: these are not model traffic.
   */
  async function telemetry(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    started: number,
  ): Promise<void> {
    const type = String(req.headers['content-type'] ?? 'application/x-protobuf');
    const json = type.includes('json');
    try {
      const key = await authenticate(req);
      authorize(path, key);
      const body = await readBody(req);
      const at = clock();
      const points =
        path === '/v1/metrics'
          ? readMetrics(body, type, at)
          : path === '/v1/logs'
            ? readLogs(body, type, at)
            : [];
      if (points.length) await store.addTelemetry(key.org, key.user, points);
      res.writeHead(200, {
        'content-type': json ? 'application/json' : 'application/x-protobuf',
        'x-sluice-overhead-ms': (now() - started).toFixed(2),
      });
      res.end(json ? '{}' : undefined);
    } catch (err) {
      const ge =
        err instanceof SluiceError
          ? err
          : err instanceof BodyError
            ? errors.telemetryMalformed(json ? 'JSON' : 'protobuf', err.message)
            : errors.telemetryUnavailable();
      if (!(err instanceof SluiceError) && !(err instanceof BodyError))
        logger.error({ err: (err as Error).message }, 'telemetry not stored');
      reply(res, ge.status, ge.body(), started, ge.headers);
    }
  }

  /** Stage: record. Exactly one audit record per request, whatever happened. */
  async function record(state: RequestState): Promise<void> {
    if (state.org?.zdr) {
      state.record.requestContent = null;
      state.record.responseContent = null;
    }
    try {
      await store.insertAudit(state.record);
    } catch (err) {
      logger.error({ id: state.id, err: (err as Error).message }, 'audit record not written');
    }
    // One line per request at debug level: the audit record is the request log; stderr is for events.
    logger.debug?.(
      {
        id: state.id,
        org: state.record.org,
        user: state.record.user,
        status: state.record.status,
        ms: Math.round(state.record.latencyMs),
      },
      'request',
    );
  }

  function reply(
    res: ServerResponse,
    status: number,
    body: string,
    started: number,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-sluice-overhead-ms': (now() - started).toFixed(2),
    });
    res.end(body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => logger.error({ err: err.name }, 'unhandled'));
  });
  server.keepAliveTimeout = 65_000;
  prepareScan();
  await new Promise<void>((resolve) => server.listen(config.server.port, config.server.host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${config.server.host}:${port}`,
    port,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await Promise.all([...pools.values()].map((p) => p.close()));
      await limits.close();
    },
  };
}

function blankRecord(req: IncomingMessage, path: string, at: Date): AuditRecord {
  const session = req.headers['x-claude-code-session-id'];
  return {
    id: `req_${randomUUID().replace(/-/g, '')}`,
    time: at.toISOString(),
    org: null,
    user: null,
    keyId: null,
    sessionId: typeof session === 'string' ? session.slice(0, 200) : null,
    method: req.method ?? 'GET',
    path,
    model: null,
    stream: false,
    status: 0,
    errorType: null,
    upstream: null,
    ...emptyUsage(),
    costUsd: null,
    latencyMs: 0,
    overheadMs: 0,
    guard: { decision: 'none', rules: {} },
    requestContent: null,
    responseContent: null,
  };
}

function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve();
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
