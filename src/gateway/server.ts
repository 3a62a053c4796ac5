/**
 * The gateway: an HTTP listener that finds each request's route (routes.ts) and runs its stages
 * (stages/) in order, then `record`. This file only composes them: the stage units of one
 * configuration are built in generation.ts, the listener's limits are in listener.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { SluiceConfig } from '../control/config.js';
import { SluiceError } from '../errors/catalog.js';
import type { FinishedRequest } from '../control/metrics.js';
import { prepareScan } from '../guard/scan.js';
import { newContext, overheadMs } from './context.js';
import {
  buildGeneration,
  Generations,
  sharedParts,
  warnFailOpen,
  type Shared,
  type SharedOptions,
} from './generation.js';
import { answerClientError, listener, type TlsFiles } from './listener.js';
import { listenMetrics } from './metrics-listener.js';
import { runStages, type Stage } from './pipeline.js';
import { routeFor } from './routes.js';

export type { GatewayLogger, TlsFiles } from './listener.js';

export interface GatewayOptions extends SharedOptions {
  config: SluiceConfig;
  /** HTTPS instead of HTTP (the contents of `server.tls`'s files). */
  tls?: TlsFiles;
  /** Told of every finished request, after its record (alerts); must not throw or block. */
  onFinished?: (r: FinishedRequest, config: SluiceConfig) => void;
}

export interface RunningGateway {
  url: string;
  port: number;
  /** The separate /metrics listener's URL (`server.metricsListen`), if there is one. */
  metricsUrl: string | null;
  /** The configuration new requests start under. */
  readonly config: SluiceConfig;
  /**
   * Builds everything `config` needs (throwing, with nothing changed, if it cannot); `commit` then
   * serves new requests under it, while requests in flight finish under the one they started with.
   * Listener settings (host, port, TLS on or off) stay; new TLS files are taken.
   */
  prepare(config: SluiceConfig, tls?: TlsFiles): { commit(): void };
  close(): Promise<void>;
}

/** Runs `stages` as one, noting the catalog code a request ends with (for the metrics). */
function coded(stages: readonly Stage[], codes: WeakMap<object, string>): Stage {
  return async (ctx) => {
    try {
      for (const stage of stages) await stage(ctx);
    } catch (err) {
      if (err instanceof SluiceError) codes.set(ctx, err.code);
      throw err;
    }
  };
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const shared = sharedParts(options);
  const { logger } = shared;
  const gens = new Generations(options.config, shared);
  warnFailOpen(options.config, logger);
  const limits = options.config.server;
  const server = listener(options, limits, requestHandler(gens, shared, options.onFinished));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) =>
    answerClientError(err, socket, gens.current.config.server.requestTimeoutMs),
  );
  prepareScan();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(limits.port, limits.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const metrics = shared.metrics;
  const metricsServer =
    metrics && limits.metricsListen ? await listenMetrics(limits.metricsListen, metrics, logger) : null;
  return {
    url: `${options.tls ? 'https' : 'http'}://${limits.host}:${port}`,
    port,
    metricsUrl: metricsServer ? metricsServer.url : null,
    get config() {
      return gens.current.config;
    },
    prepare(config, tls) {
      // A certificate that does not match its key, or is not PEM, fails here, before anything changes.
      if (tls) createSecureContext(tls);
      const next = buildGeneration(config, shared);
      return {
        commit() {
          gens.replace(next);
          if (tls && options.tls)
            (server as unknown as { setSecureContext(o: TlsFiles): void }).setSecureContext(tls);
          // Limits a live listener takes at once; host, port and TLS on or off wait for a restart.
          server.maxConnections = config.server.maxConnections;
          server.headersTimeout = config.server.headersTimeoutMs;
          server.requestTimeout = config.server.requestTimeoutMs;
          warnFailOpen(config, logger);
        },
      };
    },
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await metricsServer?.close();
      await gens.close();
      await shared.pools.close();
    },
  };
}

/** Each request: its route, its generation's stages in order, `record` last; then metrics and alerts. */
function requestHandler(
  gens: Generations,
  shared: Shared,
  onFinished: GatewayOptions['onFinished'],
): (req: IncomingMessage, res: ServerResponse) => void {
  const { logger, now, clock, metrics } = shared;
  const codes = new WeakMap<object, string>();
  const observe = metrics || onFinished;
  const finish = (
    ctx: ReturnType<typeof newContext>,
    res: ServerResponse,
    name: string,
    config: SluiceConfig,
  ) => {
    const ended = now();
    const finished: FinishedRequest = {
      route: name,
      status: ctx.record.status || res.statusCode,
      errorCode: codes.get(ctx) ?? null,
      record: ctx.record,
      latencySeconds: (ended - ctx.started) / 1000,
      overheadSeconds: overheadMs(ctx, ended) / 1000,
    };
    // The answer is out: what counts or alerts on it must not touch the request.
    try {
      metrics?.observe(finished);
      onFinished?.(finished, config);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'request not counted');
    }
  };
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = now();
    const gen = gens.enter();
    try {
      const route = routeFor(req.method ?? 'GET', (req.url ?? '/').split('?')[0] ?? '/');
      const ctx = newContext(req, res, route, gen.config, started, clock());
      const stages = route.stages.map((s) => gen.stages[s]);
      const run = observe ? [coded(stages, codes)] : stages;
      await runStages(ctx, run, route.recorded ? gen.record : null, logger, now);
      if (observe) finish(ctx, res, route.name, gen.config);
    } finally {
      gens.leave(gen);
    }
  }
  return (req, res) => {
    handle(req, res).catch((err: Error) => logger.error({ err: err.name }, 'unhandled'));
  };
}
