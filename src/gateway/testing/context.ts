/** A request context without HTTP, for calling stages directly in unit tests. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, Writable } from 'node:stream';
import { parseConfig, type SluiceConfig } from '../../control/config.js';
import type { KeyRecord } from '../../store/types.js';
import { newContext, type RequestContext } from '../context.js';
import { routeFor } from '../routes.js';

/** What a stage wrote as its answer. */
export class CapturedResponse extends Writable {
  statusCode = 0;
  headers: Record<string, unknown> = {};
  headersSent = false;
  readonly chunks: Buffer[] = [];

  writeHead(status: number, headers: Record<string, unknown> = {}): this {
    this.statusCode = status;
    this.headers = headers;
    this.headersSent = true;
    return this;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    done();
  }

  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** A one-org configuration (`acme`, upstream `anthropic` at `upstreamUrl`) with the org settings `org`. */
export function testConfig(
  org = '{ upstream: anthropic }',
  upstreamUrl = 'http://127.0.0.1:9',
): SluiceConfig {
  return parseConfig(
    `upstreams:\n  anthropic: { provider: anthropic, baseUrl: ${upstreamUrl}, apiKey: sk-ant-test, timeoutMs: 2000 }\norgs:\n  acme: ${org}\n`,
    'test.yaml',
    {},
  );
}

export const testKey: KeyRecord = {
  id: 'key_test',
  org: 'acme',
  user: 'dev@acme.test',
  role: 'member',
  hash: 'x',
  prefix: 'sk-sluice-test',
  createdAt: '2026-01-01T00:00:00.000Z',
  revokedAt: null,
  expiresAt: null,
};

export interface TestRequest {
  method?: string;
  url?: string;
  headers?: Record<string, string | undefined>;
  body?: string | Buffer;
  config?: SluiceConfig;
}

/** A context for `method url` with `body`, as the listener would make it (no key or org yet). */
export function testContext(t: TestRequest = {}): RequestContext & { res: CapturedResponse } {
  const method = t.method ?? 'POST';
  const url = t.url ?? '/v1/messages';
  const body = t.body === undefined ? [] : [Buffer.from(t.body)];
  const req = Object.assign(Readable.from(body), { method, url, headers: t.headers ?? {} });
  const res = new CapturedResponse();
  const route = routeFor(method, url.split('?')[0] ?? '/');
  const ctx = newContext(
    req as unknown as IncomingMessage,
    res as unknown as ServerResponse,
    route,
    t.config ?? testConfig(),
    0,
    new Date('2026-06-01T12:00:00.000Z'),
  );
  return ctx as RequestContext & { res: CapturedResponse };
}

/** The context after authenticate and authorize: `testKey`, and its org from the config. */
export function authorizedContext(t: TestRequest = {}): RequestContext & { res: CapturedResponse } {
  const ctx = testContext(t);
  ctx.key = testKey;
  ctx.org = ctx.config.orgs.acme ?? null;
  Object.assign(ctx.record, { org: 'acme', user: testKey.user, keyId: testKey.id });
  return ctx;
}
