/** The route article's side-by-side view: for each plan and route, training, retention, who governs, ZDR. */
import { evaluate } from './engine.js';
import { PROVIDER_VARIABLES } from './facts.js';
import type { Rule } from './rule.js';
import type { Flow, Plan, Provider } from './types.js';

export interface RouteRow {
  plan: Plan;
  provider: Provider;
  /** For consumer plans, the two settings side by side ("yes if opted in / no"). */
  training: string;
  retention: string;
  governedBy: string;
  zdr: string;
  rules: string[];
}

const CONSUMER: readonly Plan[] = ['free', 'pro', 'max'];
const GOVERNOR: Record<Provider, string> = {
  anthropic: 'Anthropic',
  bedrock: 'AWS (Bedrock)',
  vertex: 'Google Cloud (Vertex AI)',
  foundry: 'Microsoft (Foundry)',
};

const ZDR_REFUSALS: Record<string, string> = {
  'zdr-on-consumer-plan': 'no: consumer plan',
  'zdr-plan-not-eligible': 'no: Enterprise and API keys only',
  'zdr-on-cloud-provider': 'no: the cloud provider’s own policy applies',
};
const zdrRefusal = (warnings: string[]): string =>
  warnings.map((w) => ZDR_REFUSALS[w]).find((r) => r !== undefined) ?? 'no';

const days = (f: Flow): string =>
  f.retentionDays === null
    ? f.unstated.includes('retentionDays')
      ? 'unstated'
      : 'provider policy'
    : f.retentionDays === 0
      ? 'not kept'
      : `${f.retentionDays} days`;

/** A cloud route as the client takes it: with its CLAUDE_CODE_USE_* variable set to 1. */
const envFor = (provider: Provider): Record<string, string> =>
  provider === 'anthropic' ? {} : { [PROVIDER_VARIABLES[provider]]: '1' };

function inference(
  plan: Plan,
  provider: Provider,
  catalog: readonly Rule[],
  at: string,
  optIn?: boolean,
): Flow {
  const profile = {
    plan,
    provider,
    env: envFor(provider),
    ...(optIn === undefined ? {} : { trainingOptIn: optIn }),
  };
  return evaluate(profile, catalog, at).flows[0] as Flow;
}

/** One row per plan × provider, evaluated by the same engine and catalog as `explain`. */
export function compareRoutes(
  plans: readonly Plan[],
  providers: readonly Provider[],
  catalog: readonly Rule[],
  at: string,
): RouteRow[] {
  return plans.flatMap((plan) =>
    providers.map((provider): RouteRow => {
      const consumer = CONSUMER.includes(plan) && provider === 'anthropic';
      const on = inference(plan, provider, catalog, at, consumer ? true : undefined);
      const off = consumer ? inference(plan, provider, catalog, at, false) : on;
      const withZdr = evaluate({ plan, provider, zdr: true, env: envFor(provider) }, catalog, at);
      const zdrWorks = withZdr.flows[0]?.retentionDays === 0;
      const terms =
        provider !== 'anthropic' ? '' : CONSUMER.includes(plan) ? ' (consumer terms)' : ' (commercial terms)';
      return {
        plan,
        provider,
        training: consumer ? `${on.trainingUse} if opted in / ${off.trainingUse} if not` : on.trainingUse,
        retention: consumer ? `${days(on)} / ${days(off)}` : days(on),
        governedBy: GOVERNOR[provider] + terms,
        zdr: zdrWorks ? 'available' : zdrRefusal(withZdr.warnings.map((w) => w.id)),
        rules: [...new Set([...on.rules, ...off.rules])],
      };
    }),
  );
}
