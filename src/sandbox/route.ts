/**
 * A sandboxed session as a route of the policy model, for `sluice explain --sandbox` and the
 * readiness report: the org's real route (control/route-profile.ts) seen from inside the sandbox.
 * The client there has the environment `sandboxEnvironment` gives it; inference goes through the
 * gateway, git through the git proxy, and every other flow only where the org's sandbox egress
 * rules let its hosts through the session's egress proxy. Pure: configuration in, an explanation out.
 */
import type { SluiceConfig } from '../control/config.js';
import { routeProfile } from '../control/route-profile.js';
import { orgEgress } from '../egress/flows.js';
import { HOSTS } from '../egress/hosts.js';
import { EgressPolicy } from '../egress/policy.js';
import { SRC } from '../policy/catalog/index.js';
import { catalog, evaluate } from '../policy/index.js';
import type { Rule } from '../policy/rule.js';
import type { ExplainResult, Flow, Profile, Remark } from '../policy/types.js';
import { SandboxPolicyError, transcriptRule } from './policy.js';

/** What the sandbox's client has in its environment that the policy model reads (no key, no token). */
const SANDBOX_ENV = {
  ANTHROPIC_BASE_URL: 'http://127.0.0.1 (the gateway, over the session socket)',
  HTTPS_PROXY: 'http://127.0.0.1 (the session egress proxy)',
  DISABLE_AUTOUPDATER: '1',
};

/** How one flow leaves a sandbox. */
export interface SandboxFlowPath {
  flow: Flow['id'];
  /**
   * `gateway`: through Sluice's gateway; `egress`: through the session's egress proxy; `blocked`:
   * on for this client, but with no way out of the sandbox; `inside`: never leaves it; `off`: off
   * for this client anyway.
   */
  path: 'gateway' | 'egress' | 'blocked' | 'inside' | 'off';
  /** The same, in a sentence. */
  why: string;
  /** For `egress` and `blocked`: the hosts of the flow and each one's decision. */
  hosts: { host: string; decision: 'allow' | 'deny' }[];
}

export interface SandboxRoute {
  org: string;
  profile: Profile;
  result: ExplainResult;
  paths: SandboxFlowPath[];
  repositories: string[];
}

/** A host that matches `pattern` (`*.example.com:443` → `sandbox-check.example.com`), and its port. */
function sampleHost(pattern: string): { host: string; port: number } {
  const [name = '', port = '443'] = pattern.split(/:(?=\d+$)/);
  return { host: name.replaceAll('*', 'sandbox-check'), port: Number(port) };
}

/** Where a flow the host table does not list goes, by its destination (the party's API host). */
const DESTINATION_HOSTS: Partial<Record<Flow['destination'], string>> = {
  anthropic: 'api.anthropic.com:443',
  statsig: 'statsig.anthropic.com:443',
  sentry: 'sentry.io:443',
  'npm-registry': 'registry.npmjs.org:443',
};

/** A flow's hosts (from the host table, else its destination's), each decided by the session's egress proxy. */
function hostsOf(flow: Flow, egress: EgressPolicy): SandboxFlowPath['hosts'] {
  const listed = HOSTS.filter((h) => h.flows.includes(flow.id)).map((h) => h.pattern);
  const fallback = DESTINATION_HOSTS[flow.destination];
  const patterns = listed.length ? listed : fallback ? [fallback] : [];
  return patterns.map((pattern) => {
    const { host, port } = sampleHost(pattern);
    return { host: pattern, decision: egress.decide(host, port).decision === 'allow' ? 'allow' : 'deny' };
  });
}

const remark = (id: string, message: string): Remark => ({
  id,
  message,
  sources: [SRC.cloudExecution, SRC.cloudSummary],
  rules: [],
});

/** Where each enabled flow goes from inside the sandbox; a flow with no way out is shown as off. */
function routeFlow(
  flow: Flow,
  egress: EgressPolicy,
  allow: readonly string[],
  transcript: string,
  inference: Flow['destination'],
): [Flow, SandboxFlowPath] {
  if (!flow.enabled) return [flow, { flow: flow.id, path: 'off', why: 'off for this client', hosts: [] }];
  const noted = (path: SandboxFlowPath, changes: Partial<Flow> = {}): [Flow, SandboxFlowPath] => [
    { ...flow, ...changes, notes: [...flow.notes, `In a sandbox: ${path.why}.`] },
    path,
  ];
  if (flow.id === 'inference')
    return noted({
      flow: flow.id,
      path: 'gateway',
      why: 'through the Sluice gateway over the session socket, with a key minted for the session and revoked at its end; the upstream credential stays on the host',
      hosts: [],
    });
  if (flow.destination === 'local-disk')
    return noted({
      flow: flow.id,
      path: 'inside',
      why: `written to the sandbox's throwaway home and destroyed with it; the session transcript: ${transcript}`,
      hosts: [],
    });
  const listed = HOSTS.some((h) => h.flows.includes(flow.id));
  if (!listed && flow.destination === inference)
    return noted({
      flow: flow.id,
      path: 'gateway',
      why: `no source says which connection carries it; shown on, since requests to ${inference} leave the sandbox through the gateway`,
      hosts: [],
    });
  const hosts = hostsOf(flow, egress);
  const open = hosts.filter((h) => h.decision === 'allow').map((h) => h.host);
  if (open.length)
    return noted({
      flow: flow.id,
      path: 'egress',
      why: `only through the session's egress proxy, which lets ${open.join(', ')} through and records every attempt`,
      hosts,
    });
  return noted(
    {
      flow: flow.id,
      path: 'blocked',
      why: hosts.length
        ? `off: the session's egress proxy allows none of its hosts (${hosts.map((h) => h.host).join(', ')}), and the sandbox has no other way out`
        : `off unless a host the session's egress proxy allows serves it (${egressSummary(allow)}): the sandbox has no other way out`,
      hosts,
    },
    { enabled: false, data: [] },
  );
}

/** The session egress proxy's allow list, for a sentence. */
function egressSummary(allow: readonly string[]): string {
  return allow.length ? `it allows ${allow.join(', ')}` : 'it allows nothing';
}

/** The table's addition: each flow's way out of the sandbox, then git and everything else. */
export function renderSandboxPaths(route: SandboxRoute): string {
  const rows: [string, string][] = [
    ...route.paths.filter((p) => p.path !== 'off').map((p): [string, string] => [p.flow, p.why]),
    [
      'git',
      `${route.repositories.join(', ')} through Sluice's git proxy: clone, fetch, and push to claude/<session> only; the forge token stays on the host`,
    ],
    ['anything else', 'no route: the sandbox has loopback only'],
  ];
  const width = Math.max(...rows.map(([f]) => f.length));
  return `\nIn a sandboxed session of org ${route.org} (sluice sandbox run):\n${rows.map(([f, why]) => `  ${f.padEnd(width)}  ${why}`).join('\n')}\n`;
}

const inferenceOf = (flows: Flow[]): Flow['destination'] =>
  flows.find((f) => f.id === 'inference')?.destination ?? 'anthropic';

/** `org`'s sandboxed sessions as a route: the evaluation with each flow's way out of the sandbox. */
export function sandboxRoute(
  config: SluiceConfig,
  orgName: string,
  at: string,
  policyCatalog: readonly Rule[] = catalog,
): SandboxRoute {
  const org = config.orgs[orgName];
  if (!org) throw new SandboxPolicyError(`no org "${orgName}" in the configuration`);
  const policy = org.sandbox;
  if (!policy || !policy.enabled)
    throw new SandboxPolicyError(
      `org "${orgName}" has no enabled sandbox policy (orgs.${orgName}.sandbox), so it runs no sandboxed sessions`,
    );
  const routed = routeProfile(config, orgName, org).profile;
  const profile: Profile = { ...routed, env: { ...policy.env, ...SANDBOX_ENV }, at };
  const evaluated = evaluate(profile, policyCatalog, at);
  const lists = orgEgress({ zdr: org.zdr, egress: policy.egress }, at);
  const egress = new EgressPolicy(lists.allow, lists.deny);
  const transcript = transcriptRule(org);
  const routedFlows = evaluated.flows.map((f) =>
    routeFlow(f, egress, lists.allow, transcript.why, inferenceOf(evaluated.flows)),
  );
  const result: ExplainResult = {
    ...evaluated,
    flows: routedFlows.map(([f]) => f),
    notes: [
      ...evaluated.notes,
      remark(
        'sandbox-git',
        `git: clone and fetch of ${policy.repositories.join(', ')}, and push to the session's own branch (claude/<session>) only, through Sluice's git proxy; the forge token stays on the host, and every operation is in the admin log.`,
      ),
      remark(
        'sandbox-network',
        "Nothing else leaves: the sandbox's network has loopback only, and the gateway, the session's egress proxy and the git proxy are bridged in over Unix sockets.",
      ),
      remark('sandbox-transcript', `The session transcript: ${transcript.why}.`),
    ],
  };
  return {
    org: orgName,
    profile,
    result,
    paths: routedFlows.map(([, p]) => p),
    repositories: policy.repositories,
  };
}
