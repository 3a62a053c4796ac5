/**
 * The OTLP/HTTP receiver: Claude Code's own OpenTelemetry metrics and events
 * (`CLAUDE_CODE_ENABLE_TELEMETRY=1`, `OTEL_EXPORTER_OTLP_ENDPOINT` at the gateway, the Sluice key in
 * `OTEL_EXPORTER_OTLP_HEADERS`), in JSON or protobuf. What is kept: per user, session, UTC day and
 * metric, the summed value, with only the `type` and `model` attributes (tokens by type and model,
 * lines added or removed, ...), and per event name a count. Everything else is dropped on arrival,
 * prompt text and tool content included, even when a client sends them (`OTEL_LOG_USER_PROMPTS=1`).
 */
import type { Store } from '../store/types.js';

/** An OTLP body that cannot be read (malformed JSON or protobuf). */
export class TelemetryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TelemetryError';
  }
}

export interface TelemetryPoint {
  sessionId: string;
  /** `claude_code.token.usage{model=…,type=input}` or `event:claude_code.user_prompt`. */
  metric: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  value: number;
  /** Cumulative temporality: the value is a running total for the session, not an increment. */
  cumulative: boolean;
}

/** The only attributes kept on a metric point. */
const KEPT = ['model', 'type'];

type AnyValue = string | number | boolean | null;

interface Point {
  attributes: Map<string, AnyValue>;
  value: number;
  timeNanos: bigint;
}

const dayOf = (nanos: bigint, fallback: Date): string =>
  (nanos > 0n ? new Date(Number(nanos / 1_000_000n)) : fallback).toISOString().slice(0, 10);

function metricKey(name: string, attrs: Map<string, AnyValue>): string {
  const kept = KEPT.filter((k) => attrs.has(k)).map((k) => `${k}=${String(attrs.get(k))}`);
  return kept.length ? `${name}{${kept.join(',')}}` : name;
}

// --- JSON (OTLP/HTTP JSON encoding) ---------------------------------------------------------------

interface JsonKeyValue {
  key?: string;
  value?: { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
}

function jsonAttrs(list: JsonKeyValue[] | undefined): Map<string, AnyValue> {
  const out = new Map<string, AnyValue>();
  for (const kv of list ?? []) {
    if (!kv.key || !kv.value) continue;
    const v = kv.value;
    out.set(
      kv.key,
      v.stringValue ??
        (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue ?? null)),
    );
  }
  return out;
}

// --- Protobuf (the wire format, for the few OTLP fields read here) ---------------------------------

class Wire {
  pos = 0;
  constructor(
    readonly b: Buffer,
    readonly end = b.length,
  ) {}

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new TelemetryError('truncated protobuf');
      const byte = this.b[this.pos++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result;
      shift += 7n;
      if (shift > 70n) throw new TelemetryError('bad protobuf varint');
    }
  }

  /** Calls `field(number, wireType, wire)` for each field; `wire` is positioned at the value. */
  fields(field: (n: number, type: number) => void): void {
    while (this.pos < this.end) {
      const tag = Number(this.varint());
      const before = this.pos;
      field(tag >>> 3, tag & 7);
      if (this.pos === before) this.skip(tag & 7);
    }
  }

  skip(type: number): void {
    if (type === 0) this.varint();
    else if (type === 1) this.pos += 8;
    else if (type === 2) {
      // Read the length first: `this.pos += this.varint()` would add it to the position before it.
      const len = Number(this.varint());
      this.pos += len;
    } else if (type === 5) this.pos += 4;
    else throw new TelemetryError(`unsupported protobuf wire type ${type}`);
    if (this.pos > this.end) throw new TelemetryError('truncated protobuf');
  }

  sub(): Wire {
    const len = Number(this.varint());
    const w = new Wire(this.b, this.pos + len);
    w.pos = this.pos;
    if (w.end > this.end) throw new TelemetryError('truncated protobuf');
    this.pos += len;
    return w;
  }

  string(): string {
    const w = this.sub();
    return this.b.toString('utf8', w.pos, w.end);
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new TelemetryError('truncated protobuf');
  }

  fixed64(): bigint {
    this.need(8);
    const v = this.b.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  double(): number {
    this.need(8);
    const v = this.b.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
}

/** AnyValue: string 1, bool 2, int 3, double 4 (arrays, maps and bytes are dropped). */
function protoAnyValue(w: Wire): AnyValue {
  let v: AnyValue = null;
  w.fields((n, t) => {
    if (n === 1 && t === 2) v = w.string();
    else if (n === 2 && t === 0) v = w.varint() !== 0n;
    else if (n === 3 && t === 0) v = Number(BigInt.asIntN(64, w.varint()));
    else if (n === 4 && t === 1) v = w.double();
  });
  return v;
}

function protoKeyValue(w: Wire, into: Map<string, AnyValue>): void {
  let key = '';
  let value: AnyValue = null;
  w.fields((n, t) => {
    if (n === 1 && t === 2) key = w.string();
    else if (n === 2 && t === 2) value = protoAnyValue(w.sub());
  });
  if (key) into.set(key, value);
}

/** NumberDataPoint: attributes 7, time_unix_nano 3, as_double 4, as_int 6. */
function protoNumberPoint(w: Wire): Point {
  const p: Point = { attributes: new Map(), value: 0, timeNanos: 0n };
  w.fields((n, t) => {
    if (n === 7 && t === 2) protoKeyValue(w.sub(), p.attributes);
    else if (n === 3 && t === 1) p.timeNanos = w.fixed64();
    else if (n === 4 && t === 1) p.value = w.double();
    else if (n === 6 && t === 1) p.value = Number(BigInt.asIntN(64, w.fixed64()));
  });
  return p;
}

// --- Both encodings to points ---------------------------------------------------------------------

interface MetricSeries {
  name: string;
  cumulative: boolean;
  points: Point[];
  resource: Map<string, AnyValue>;
}

function sessionOf(attrs: Map<string, AnyValue>, resource: Map<string, AnyValue>): string {
  return String(attrs.get('session.id') ?? resource.get('session.id') ?? '');
}

function toPoints(series: MetricSeries[], now: Date): TelemetryPoint[] {
  return series.flatMap((s) =>
    s.points.map((p) => ({
      sessionId: sessionOf(p.attributes, s.resource),
      metric: metricKey(s.name, p.attributes),
      day: dayOf(p.timeNanos, now),
      value: p.value,
      cumulative: s.cumulative,
    })),
  );
}

/** The metric points of an ExportMetricsServiceRequest (JSON or protobuf). */
export function readMetrics(body: Buffer, contentType: string, now: Date): TelemetryPoint[] {
  const series: MetricSeries[] = [];
  if (contentType.includes('json')) {
    let req: { resourceMetrics?: unknown[] };
    try {
      req = JSON.parse(body.toString('utf8')) as typeof req;
    } catch {
      throw new TelemetryError('not valid JSON');
    }
    for (const rm of (req.resourceMetrics ?? []) as {
      resource?: { attributes?: JsonKeyValue[] };
      scopeMetrics?: { metrics?: Record<string, unknown>[] }[];
    }[]) {
      const resource = jsonAttrs(rm.resource?.attributes);
      for (const sm of rm.scopeMetrics ?? [])
        for (const m of sm.metrics ?? []) {
          const data = (m.sum ?? m.gauge) as
            { dataPoints?: Record<string, unknown>[]; aggregationTemporality?: number | string } | undefined;
          if (!data || typeof m.name !== 'string') continue;
          const temporality = data.aggregationTemporality;
          series.push({
            name: m.name,
            cumulative: temporality === 2 || temporality === 'AGGREGATION_TEMPORALITY_CUMULATIVE',
            resource,
            points: (data.dataPoints ?? []).map((dp) => ({
              attributes: jsonAttrs(dp.attributes as JsonKeyValue[] | undefined),
              value: Number(dp.asDouble ?? dp.asInt ?? 0),
              timeNanos: BigInt(String(dp.timeUnixNano ?? 0)),
            })),
          });
        }
    }
    return toPoints(series, now);
  }
  // ExportMetricsServiceRequest{resource_metrics 1}; ResourceMetrics{resource 1, scope_metrics 2};
  // Resource{attributes 1}; ScopeMetrics{metrics 2}; Metric{name 1, gauge 5, sum 7};
  // Sum{data_points 1, aggregation_temporality 2}; Gauge{data_points 1}.
  const top = new Wire(body);
  top.fields((n, t) => {
    if (n !== 1 || t !== 2) return;
    const rm = top.sub();
    const resource = new Map<string, AnyValue>();
    const metrics: Wire[] = [];
    rm.fields((rn, rt) => {
      if (rn === 1 && rt === 2) {
        const r = rm.sub();
        r.fields((an, at) => {
          if (an === 1 && at === 2) protoKeyValue(r.sub(), resource);
        });
      } else if (rn === 2 && rt === 2) {
        const sm = rm.sub();
        sm.fields((sn, st) => {
          if (sn === 2 && st === 2) metrics.push(sm.sub());
        });
      }
    });
    for (const m of metrics) {
      let name = '';
      let cumulative = false;
      const points: Point[] = [];
      m.fields((mn, mt) => {
        if (mn === 1 && mt === 2) name = m.string();
        else if ((mn === 5 || mn === 7) && mt === 2) {
          const d = m.sub();
          d.fields((dn, dt) => {
            if (dn === 1 && dt === 2) points.push(protoNumberPoint(d.sub()));
            else if (dn === 2 && dt === 0) cumulative = d.varint() === 2n;
          });
        }
      });
      if (name) series.push({ name, cumulative, points, resource });
    }
  });
  return toPoints(series, now);
}

/** One count per event (log record), by its name: attributes and body are not kept. */
export function readLogs(body: Buffer, contentType: string, now: Date): TelemetryPoint[] {
  const events: { name: string; session: string; nanos: bigint }[] = [];
  if (contentType.includes('json')) {
    let req: { resourceLogs?: unknown[] };
    try {
      req = JSON.parse(body.toString('utf8')) as typeof req;
    } catch {
      throw new TelemetryError('not valid JSON');
    }
    for (const rl of (req.resourceLogs ?? []) as {
      resource?: { attributes?: JsonKeyValue[] };
      scopeLogs?: {
        logRecords?: {
          attributes?: JsonKeyValue[];
          body?: { stringValue?: string };
          timeUnixNano?: string;
        }[];
      }[];
    }[]) {
      const resource = jsonAttrs(rl.resource?.attributes);
      for (const sl of rl.scopeLogs ?? [])
        for (const r of sl.logRecords ?? []) {
          const attrs = jsonAttrs(r.attributes);
          events.push({
            name: String(attrs.get('event.name') ?? r.body?.stringValue ?? 'unnamed'),
            session: sessionOf(attrs, resource),
            nanos: BigInt(String(r.timeUnixNano ?? 0)),
          });
        }
    }
  } else {
    // ExportLogsServiceRequest{resource_logs 1}; ResourceLogs{resource 1, scope_logs 2};
    // ScopeLogs{log_records 2}; LogRecord{time_unix_nano 1, body 5, attributes 6}.
    const top = new Wire(body);
    top.fields((n, t) => {
      if (n !== 1 || t !== 2) return;
      const rl = top.sub();
      const resource = new Map<string, AnyValue>();
      const records: Wire[] = [];
      rl.fields((rn, rt) => {
        if (rn === 1 && rt === 2) {
          const r = rl.sub();
          r.fields((an, at) => {
            if (an === 1 && at === 2) protoKeyValue(r.sub(), resource);
          });
        } else if (rn === 2 && rt === 2) {
          const sl = rl.sub();
          sl.fields((sn, st) => {
            if (sn === 2 && st === 2) records.push(sl.sub());
          });
        }
      });
      for (const rec of records) {
        const attrs = new Map<string, AnyValue>();
        let bodyText: AnyValue = null;
        let nanos = 0n;
        rec.fields((fn, ft) => {
          if (fn === 1 && ft === 1) nanos = rec.fixed64();
          else if (fn === 5 && ft === 2) bodyText = protoAnyValue(rec.sub());
          else if (fn === 6 && ft === 2) protoKeyValue(rec.sub(), attrs);
        });
        events.push({
          name: String(attrs.get('event.name') ?? bodyText ?? 'unnamed'),
          session: sessionOf(attrs, resource),
          nanos,
        });
      }
    });
  }
  return events.map((e) => ({
    sessionId: e.session,
    metric: `event:${e.name.slice(0, 100)}`,
    day: dayOf(e.nanos, now),
    value: 1,
    cumulative: false,
  }));
}

/** What one OTLP export asks to be kept: its kind (the path's last part), body and content type. */
export interface TelemetryExport {
  kind: 'metrics' | 'logs' | 'traces';
  body: Buffer;
  contentType: string;
}

/**
 * Keeps an export's points for `user` of `org` (traces are accepted and dropped). Throws
 * TelemetryError for a body that cannot be read; a store failure propagates.
 */
export async function receiveTelemetry(
  store: Store,
  org: string,
  user: string,
  e: TelemetryExport,
  at: Date,
): Promise<void> {
  const points =
    e.kind === 'metrics'
      ? readMetrics(e.body, e.contentType, at)
      : e.kind === 'logs'
        ? readLogs(e.body, e.contentType, at)
        : [];
  if (points.length) await store.addTelemetry(org, user, points);
}
