/**
 * `sluice audit --egress-log`: the hosts a machine's clients actually contacted (records from the
 * egress proxy, as `sluice egress log --format json` prints them) beside the flows the machine's
 * configuration predicts, with a finding for each host the settings say should not be contacted.
 */
import { hostInfo, type HostFlow } from '../egress/flows.js';
import type { ExplainResult, FlowId } from '../policy/types.js';
import { finding } from './finding.js';
import type { Finding } from './types.js';

/** The fields of an egress record the comparison reads. */
export interface EgressLine {
  host: string;
  port: number;
  decision: 'allow' | 'deny';
  user: string | null;
  time: string;
}

export class EgressLogError extends Error {}

/** Parses JSON lines from `sluice egress log --format json`, naming the line of any bad record. */
export function parseEgressLog(text: string, file: string): EgressLine[] {
  const out: EgressLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const where = `${file}:${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new EgressLogError(`${where}: not JSON (expected the output of sluice egress log --format json)`);
    }
    const r = v as Partial<Record<keyof EgressLine, unknown>>;
    if (!r || typeof r !== 'object' || typeof r.host !== 'string' || !r.host)
      throw new EgressLogError(`${where}: expected a record with host, port and decision`);
    if (typeof r.port !== 'number' || !Number.isInteger(r.port) || r.port < 1 || r.port > 65535)
      throw new EgressLogError(`${where}: port: expected a number from 1 to 65535`);
    if (r.decision !== 'allow' && r.decision !== 'deny')
      throw new EgressLogError(`${where}: decision: expected allow or deny`);
    out.push({
      host: r.host.toLowerCase(),
      port: r.port,
      decision: r.decision,
      user: typeof r.user === 'string' ? r.user : null,
      time: typeof r.time === 'string' ? r.time : '',
    });
  });
  return out;
}

export interface ContactedHost {
  host: string;
  port: number;
  attempts: number;
  allowed: number;
  denied: number;
  flows: HostFlow[];
  uses: string[];
  /** `expected`: the configuration predicts it; `unexpected`: it says no; `unknown`: not a host of the model. */
  verdict: 'expected' | 'unexpected' | 'unknown';
  why: string;
}

export interface EgressComparison {
  file: string;
  records: number;
  /** Only this user's records were read, if set. */
  user?: string;
  hosts: ContactedHost[];
  /** Network flows the configuration predicts (enabled, leaving the machine), and whether any host of theirs was seen. */
  predicted: { flow: FlowId; destination: string; seen: boolean }[];
}

const NETWORK_FLOWS: FlowId[] = ['inference', 'telemetry', 'error-reporting', 'feedback', 'third-party'];

/** Why the configuration predicts (or rules out) traffic to a host of `flow`. */
function judge(
  flow: HostFlow,
  destination: string | undefined,
  explain: ExplainResult,
  gateway: string | undefined,
): { ok: boolean; why: string } {
  if (flow === 'client') return { ok: true, why: 'the client needs it to run' };
  if (flow === 'packages') return { ok: true, why: 'a package registry (tools and installs)' };
  const f = explain.flows.find((x) => x.id === flow);
  if (!f) return { ok: false, why: `${flow}: not in the policy model` };
  if (!f.enabled) return { ok: false, why: `${flow} is off (rules: ${f.rules.join(', ')})` };
  if (flow === 'inference') {
    if (destination !== f.destination)
      return { ok: false, why: `inference goes to ${f.destination}, not ${destination ?? 'this host'}` };
    if (gateway && destination === 'anthropic')
      return { ok: false, why: `inference goes through the gateway ANTHROPIC_BASE_URL (${gateway})` };
  }
  return { ok: true, why: `${flow} is on (rules: ${f.rules.join(', ')})` };
}

/** Compares what was contacted with what `explain` predicts; `gateway` is the host of ANTHROPIC_BASE_URL, if any. */
export function compareEgress(
  lines: EgressLine[],
  explain: ExplainResult,
  gateway: string | undefined,
  file: string,
  user?: string,
): { comparison: EgressComparison; findings: Finding[] } {
  const mine = user ? lines.filter((l) => l.user === user) : lines;
  const groups = new Map<string, ContactedHost>();
  for (const l of mine) {
    const key = `${l.host}:${l.port}`;
    let g = groups.get(key);
    if (!g) {
      const info = hostInfo(l.host, l.port);
      const verdicts = info.flows.map((f) => judge(f, info.destination, explain, gateway));
      const ok = verdicts.filter((v) => v.ok);
      g = {
        host: l.host,
        port: l.port,
        attempts: 0,
        allowed: 0,
        denied: 0,
        flows: info.flows,
        uses: info.uses,
        verdict: !info.flows.length ? 'unknown' : ok.length ? 'expected' : 'unexpected',
        why: !info.flows.length
          ? 'not a host the policy model knows (a tool such as WebFetch or Bash may have reached it)'
          : (ok.length ? ok : verdicts).map((v) => v.why).join('; '),
      };
      groups.set(key, g);
    }
    g.attempts++;
    if (l.decision === 'allow') g.allowed++;
    else g.denied++;
  }
  const hosts = [...groups.values()].sort(
    (a, b) => a.verdict.localeCompare(b.verdict) || b.attempts - a.attempts || a.host.localeCompare(b.host),
  );
  const predicted = explain.flows
    .filter((f) => f.enabled && NETWORK_FLOWS.includes(f.id))
    .map((f) => ({
      flow: f.id,
      destination: f.destination,
      seen: hosts.some((h) => h.flows.includes(f.id) && h.verdict === 'expected'),
    }));
  const findings = hosts
    .filter((h) => h.verdict !== 'expected')
    .map((h) =>
      h.verdict === 'unexpected'
        ? finding(
            {
              id: 'egress-unexpected-host',
              severity: h.allowed ? 'high' : 'medium',
              message: `${h.host}:${h.port} (${h.flows.join(', ')}) was contacted ${h.attempts}× (${h.allowed} allowed, ${h.denied} denied), but the configuration says it should not be: ${h.why}.`,
              fix: h.allowed
                ? `Deny it in the egress policy (sluice egress policy shows the rules), and find which setting or client version sends it despite the configuration.`
                : `The egress proxy stopped it; keep its deny rule, and find which setting or client version sends it despite the configuration.`,
              file,
            },
            h.host,
            h.port,
          )
        : finding(
            {
              id: 'egress-unknown-host',
              severity: 'info',
              message: `${h.host}:${h.port} was contacted ${h.attempts}× (${h.allowed} allowed, ${h.denied} denied); ${h.why}.`,
              fix: 'If it is expected, allow it by name in the org’s egress.allow; otherwise deny it.',
              file,
            },
            h.host,
            h.port,
          ),
    );
  return {
    comparison: { file, records: mine.length, ...(user ? { user } : {}), hosts, predicted },
    findings,
  };
}
