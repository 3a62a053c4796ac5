/**
 * The gateway's Prometheus metrics (`/metrics`, docs/operations.md): one registry per running
 * gateway, fed once per finished request and by the store's writes. Labels are bounded: route
 * names, status codes, rule ids, upstream names and decisions, never a user, a key or content.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditRecord, Store } from '../store/types.js';

/** What the gateway knows of a request once it ended (its record written or not). */
export interface FinishedRequest {
  /** The route's name (routes.ts). */
  route: string;
  status: number;
  /** The catalog code the request ended with, if it ended with one. */
  errorCode: string | null;
  record: AuditRecord;
  /** Seconds from arrival to the end, and spent in the gateway before the upstream request left. */
  latencySeconds: number;
  overheadSeconds: number;
}

// Latency spans a cached 404 (a millisecond) to a long generation (minutes).
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
// Overhead is what the gateway adds: well under a second when healthy.
const OVERHEAD_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

/** Store methods that write (their latency is `sluice_store_write_seconds{op}`). */
const STORE_WRITES = new Set([
  'insertAudit',
  'insertAudits',
  'addCounters',
  'bumpCounter',
  'appendAdminLog',
  'insertEgress',
  'insertKey',
  'revokeKey',
  'upsertOrg',
  'addTelemetry',
]);

interface RouteSeries {
  requests: { inc(): void };
  latency: { observe(value: number): void };
  overhead: { observe(value: number): void };
}

/** Told of writes that succeeded (alerts read spend once its records are in). */
export interface StoreHooks {
  audits?: (records: readonly AuditRecord[]) => void;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'status'>;
  private readonly latency: Histogram<'route'>;
  private readonly overhead: Histogram<'route'>;
  private readonly guard: Counter<'rule' | 'decision'>;
  private readonly upstreamErrors: Counter<'upstream' | 'kind'>;
  private readonly budgetRefusals: Counter<'org'>;
  private readonly storeWrites: Histogram<'op'>;
  private readonly storeErrors: Counter<'op'>;
  private readonly egress: Counter<'decision'>;
  private readonly reloads: Counter<'result'>;
  private readonly alerts: Counter<'result'>;
  /** Per route and status: bounded (routes are the gateway's own, statuses a few hundred at most). */
  private readonly series = new Map<string, RouteSeries>();

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.processMetrics !== false)
      collectDefaultMetrics({ register: this.registry, prefix: 'sluice_' });
    this.requests = new Counter({
      name: 'sluice_requests_total',
      help: 'Requests answered, by route and status.',
      labelNames: ['route', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'sluice_request_duration_seconds',
      help: 'Time from a request arriving to its answer ending, by route.',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.overhead = new Histogram({
      name: 'sluice_gateway_overhead_seconds',
      help: 'Time a request spent in the gateway before its upstream request left (or until it was answered without one).',
      labelNames: ['route'],
      buckets: OVERHEAD_BUCKETS,
      registers,
    });
    this.guard = new Counter({
      name: 'sluice_guard_findings_total',
      help: "Guard findings in requests, by detection rule and the request's guard decision.",
      labelNames: ['rule', 'decision'],
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'sluice_upstream_errors_total',
      help: 'Upstream failures: the gateway error code (unreachable, timeout, ...) or the status the upstream answered (5xx).',
      labelNames: ['upstream', 'kind'],
      registers,
    });
    this.budgetRefusals = new Counter({
      name: 'sluice_budget_refusals_total',
      help: 'Requests refused because a budget was spent, by org.',
      labelNames: ['org'],
      registers,
    });
    this.storeWrites = new Histogram({
      name: 'sluice_store_write_seconds',
      help: 'Latency of writes to the store, by operation.',
      labelNames: ['op'],
      buckets: STORE_BUCKETS,
      registers,
    });
    this.storeErrors = new Counter({
      name: 'sluice_store_write_errors_total',
      help: 'Writes the store refused, by operation.',
      labelNames: ['op'],
      registers,
    });
    this.egress = new Counter({
      name: 'sluice_egress_attempts_total',
      help: 'Connection attempts through the egress proxy, by decision.',
      labelNames: ['decision'],
      registers,
    });
    this.reloads = new Counter({
      name: 'sluice_config_reloads_total',
      help: 'Configuration reloads, by result (applied, unchanged, rejected).',
      labelNames: ['result'],
      registers,
    });
    this.alerts = new Counter({
      name: 'sluice_alerts_total',
      help: 'Alert webhooks, by result (sent, failed).',
      labelNames: ['result'],
      registers,
    });
  }

  /** Counts one finished request. Cheap: a map look-up for the route's series, no label hashing. */
  observe(r: FinishedRequest): void {
    const { route, record } = r;
    const series = this.seriesOf(route, r.status);
    series.requests.inc();
    series.latency.observe(r.latencySeconds);
    series.overhead.observe(r.overheadSeconds);
    const decision = record.guard.decision;
    for (const [rule, count] of Object.entries(record.guard.rules)) this.guard.inc({ rule, decision }, count);
    if (r.errorCode === 'budget_exceeded') this.budgetRefusals.inc({ org: record.org ?? '' });
    const upstream = record.upstream ?? record.upstreamsTried.at(-1) ?? '';
    if (r.errorCode && /^(upstream_|cloud_)/.test(r.errorCode))
      this.upstreamErrors.inc({ upstream, kind: r.errorCode });
    else if (!r.errorCode && record.upstream && r.status >= 500)
      this.upstreamErrors.inc({ upstream, kind: String(r.status) });
  }

  /** A route's (and status's) series, made once: prom-client hashes the labels on every call otherwise. */
  private seriesOf(route: string, status: number): RouteSeries {
    const id = `${route} ${status}`;
    let series = this.series.get(id);
    if (!series) {
      series = {
        requests: this.requests.labels({ route, status: String(status) }),
        latency: this.latency.labels({ route }),
        overhead: this.overhead.labels({ route }),
      };
      this.series.set(id, series);
    }
    return series;
  }

  reload(result: 'applied' | 'unchanged' | 'rejected'): void {
    this.reloads.inc({ result });
  }

  alert(result: 'sent' | 'failed'): void {
    this.alerts.inc({ result });
  }

  /** The text exposition format, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /**
   * `store` with its writes timed, egress records counted by decision, and `hooks` told of audit
   * records once they are in. Every other method passes through untouched.
   */
  timedStore(store: Store, hooks: StoreHooks = {}): Store {
    // One wrapper per method, made on first use: the hot path pays a map look-up, not a bind.
    const wrapped = new Map<string, unknown>();
    return new Proxy(store, {
      get: (target, prop, receiver) => {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof prop !== 'string' || typeof value !== 'function') return value;
        let fn = wrapped.get(prop);
        if (!fn) {
          const bound = (value as (...a: unknown[]) => Promise<unknown>).bind(target);
          fn = STORE_WRITES.has(prop) ? this.timeWrite(prop, bound, hooks) : bound;
          wrapped.set(prop, fn);
        }
        return fn;
      },
    });
  }

  private timeWrite(op: string, write: (...a: unknown[]) => Promise<unknown>, hooks: StoreHooks) {
    return (...args: unknown[]) => {
      if (op === 'insertEgress') {
        const decision = (args[0] as { decision?: string } | undefined)?.decision;
        if (decision) this.egress.inc({ decision });
      }
      const end = this.storeWrites.startTimer({ op });
      return write(...args).then(
        (v) => {
          end();
          if (hooks.audits && (op === 'insertAudits' || op === 'insertAudit'))
            hooks.audits(op === 'insertAudit' ? [args[0] as AuditRecord] : (args[0] as AuditRecord[]));
          return v;
        },
        (err: unknown) => {
          end();
          this.storeErrors.inc({ op });
          throw err;
        },
      );
    };
  }
}
