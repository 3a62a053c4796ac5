/**
 * Routes whose logic is the control plane's (src/control): the OTLP receiver and the admin API. The
 * gateway only hands them the request and answers with what they return or the catalog error.
 */
import type { AdminApi } from '../../control/admin-api.js';
import { receiveTelemetry, TelemetryError, type TelemetryExport } from '../../control/otlp.js';
import { errors, SluiceError } from '../../errors/catalog.js';
import type { Store } from '../../store/types.js';
import type { Console } from '../../web/console.js';
import { reply, type Stage } from '../pipeline.js';
import { readBody } from './read.js';

interface Deps {
  store: Store;
  clock: () => Date;
  now: () => number;
  logError: (fields: Record<string, unknown>, msg: string) => void;
}

/** OTLP/HTTP export of Claude Code's own telemetry, attributed by the Sluice key; no audit record. */
export function telemetry(deps: Deps): Stage {
  return async (ctx) => {
    const key = ctx.key;
    if (!key) return;
    const contentType = String(ctx.req.headers['content-type'] ?? 'application/x-protobuf');
    const json = contentType.includes('json');
    const e: TelemetryExport = {
      kind: ctx.path.slice('/v1/'.length) as TelemetryExport['kind'],
      body: await readBody(ctx.req, ctx.config.server.maxBodyBytes),
      contentType,
    };
    try {
      await receiveTelemetry(deps.store, key.org, key.user, e, deps.clock());
    } catch (err) {
      if (err instanceof TelemetryError)
        throw errors.telemetryMalformed(json ? 'JSON' : 'protobuf', err.message);
      deps.logError({ err: (err as Error).message }, 'telemetry not stored');
      throw errors.telemetryUnavailable();
    }
    ctx.res.writeHead(200, {
      'content-type': json ? 'application/json' : 'application/x-protobuf',
      'x-sluice-overhead-ms': (deps.now() - ctx.started).toFixed(2),
    });
    ctx.res.end(json ? '{}' : undefined);
  };
}

/** `/admin/v1/*`: the admin API (control/admin-api.ts). */
export function admin(api: AdminApi, deps: Deps): Stage {
  return async (ctx) => {
    const url = new URL(ctx.req.url ?? '/', 'http://gateway');
    try {
      const answer = await api.handle({
        method: ctx.req.method ?? 'GET',
        path: ctx.path.slice('/admin/v1'.length),
        query: url.searchParams,
        authorization: ctx.req.headers.authorization,
        body: () => readBody(ctx.req, ctx.config.server.maxBodyBytes),
      });
      reply(ctx.res, answer.status, JSON.stringify(answer.body), ctx.started, deps.now);
    } catch (err) {
      if (err instanceof SluiceError) throw err;
      deps.logError({ id: ctx.id, err: (err as Error).message }, 'admin request failed');
      throw errors.adminUnavailable();
    }
  };
}

/** `/console` and below: the web console (web/console.ts), served on the gateway's listener. */
export function consoleRoute(c: Console, deps: Deps): Stage {
  return async (ctx) => {
    const url = new URL(ctx.req.url ?? '/', 'http://gateway');
    const csrf = ctx.req.headers['x-csrf-token'];
    try {
      const answer = await c.handle({
        method: ctx.req.method ?? 'GET',
        path: ctx.path,
        query: url.searchParams,
        cookie: ctx.req.headers.cookie,
        csrf: Array.isArray(csrf) ? csrf[0] : csrf,
        secure: (ctx.req.socket as { encrypted?: boolean }).encrypted === true,
        body: () => readBody(ctx.req, ctx.config.server.maxBodyBytes),
      });
      const body = typeof answer.body === 'string' ? Buffer.from(answer.body) : answer.body;
      ctx.res.writeHead(answer.status, {
        ...answer.headers,
        'content-length': String(body.length),
        'x-sluice-overhead-ms': (deps.now() - ctx.started).toFixed(2),
      });
      ctx.res.end(ctx.req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      if (err instanceof SluiceError) throw err;
      deps.logError({ id: ctx.id, err: (err as Error).message }, 'console request failed');
      throw errors.adminUnavailable();
    }
  };
}
