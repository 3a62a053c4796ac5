/**
 * Routes whose logic is company sign-in's (src/signin): the protocol's unauthenticated endpoints
 * and `/managed/settings`. The gateway reads the request (bounded), hands it over, and writes back
 * the answer; without a `signin:` section they answer a catalog 404.
 */
import { errors, SluiceError } from '../../errors/catalog.js';
import { ScimError, scimErrorAnswer } from '../../signin/scim.js';
import type { SignInAnswer, SignInService } from '../../signin/service.js';
import type { Stage } from '../pipeline.js';
import { readBody } from './read.js';

/** Sign-in forms and grants are small: a bound far below the Messages API's. */
const MAX_FORM_BYTES = 64 * 1024;

function write(ctx: Parameters<Stage>[0], answer: SignInAnswer, now: () => number): void {
  ctx.res.writeHead(answer.status, {
    ...answer.headers,
    'content-length': Buffer.byteLength(answer.body),
    'x-sluice-overhead-ms': (now() - ctx.started).toFixed(2),
  });
  ctx.res.end(answer.body);
}

/** Discovery, device authorization, the verification page, the callback, tokens and revocation. */
export function signin(service: SignInService | null, now: () => number): Stage {
  return async (ctx) => {
    if (!service) throw errors.signinUnavailable(ctx.path);
    const method = ctx.req.method ?? 'GET';
    const body = method === 'POST' ? await readBody(ctx.req, MAX_FORM_BYTES) : Buffer.alloc(0);
    const answer = await service.handle({
      method,
      path: ctx.path,
      query: new URL(ctx.req.url ?? '/', 'http://gateway').searchParams,
      headers: ctx.req.headers,
      body,
      clientIp: ctx.req.socket.remoteAddress ?? null,
    });
    write(ctx, answer, now);
  };
}

/** SCIM bodies are a user or a group (or a PATCH of one): 1 MiB bounds the largest group push. */
const MAX_SCIM_BYTES = 1024 * 1024;

/** `/scim/v2/*`: SCIM 2.0 provisioning, answered in SCIM's own error shape (RFC 7644 §3.12). */
export function scim(service: SignInService | null, now: () => number): Stage {
  return async (ctx) => {
    if (!service) throw errors.signinUnavailable(ctx.path);
    const method = ctx.req.method ?? 'GET';
    if (!service.scim) {
      const off = new ScimError(
        404,
        null,
        'SCIM provisioning is off on this gateway: set signin.scim in sluice.yaml.',
      );
      return write(ctx, scimErrorAnswer(off), now);
    }
    const reads = method === 'POST' || method === 'PUT' || method === 'PATCH';
    let body: Buffer = Buffer.alloc(0);
    if (reads)
      try {
        body = await readBody(ctx.req, MAX_SCIM_BYTES);
      } catch (err) {
        if (!(err instanceof SluiceError)) throw err;
        return write(
          ctx,
          scimErrorAnswer(new ScimError(413, null, `The body is over ${MAX_SCIM_BYTES} bytes.`)),
          now,
        );
      }
    const answer = await service.scim.handle({
      method,
      path: ctx.path,
      query: new URL(ctx.req.url ?? '/', 'http://gateway').searchParams,
      headers: ctx.req.headers,
      body,
      clientIp: ctx.req.socket.remoteAddress ?? null,
    });
    write(ctx, answer, now);
  };
}

/** `GET /managed/settings`: the settings the caller's org and groups get, with checksum and ETag. */
export function managedSettings(service: SignInService | null, now: () => number): Stage {
  return async (ctx) => {
    const key = ctx.key;
    if (!service || !key) throw errors.signinUnavailable(ctx.path);
    const inm = ctx.req.headers['if-none-match'];
    const answer = await service.managedSettings(
      { org: key.org, groups: ctx.identity?.groups ?? [], user: key.user },
      Array.isArray(inm) ? inm[0] : inm,
    );
    if (!answer) throw errors.noManagedSettings(key.org);
    write(ctx, answer, now);
  };
}
