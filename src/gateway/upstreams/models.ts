/**
 * Which id each route knows a Claude model by. The defaults are the `provider_ids` of the model
 * registry that Claude Code 2.1.330 ships (read from its binary, see docs/cloud-routes.md#model-ids):
 * the Anthropic API's id, Bedrock's cross-region inference profile, Vertex AI's and Foundry's
 * model names. An upstream's `models:` table adds to them and wins.
 */
import type { UpstreamConfig } from '../../control/config.js';

export type Provider = UpstreamConfig['provider'];

/** One model's ids; a route that does not serve it has none. */
export interface ModelIds {
  anthropic: string;
  bedrock?: string;
  vertex?: string;
  foundry?: string;
}

const ids = (anthropic: string, bedrock: string, vertex: string, foundry: string): ModelIds => ({
  anthropic,
  bedrock,
  vertex,
  foundry,
});
/** Current models, whose ids are the same alias on every route but Bedrock's profile prefix. */
const same = (id: string): ModelIds => ids(id, `us.anthropic.${id}`, id, id);

/** By the client's short id (what `--model` and the aliases resolve to). */
export const DEFAULT_MODELS: Readonly<Record<string, ModelIds>> = {
  'claude-opus-5-5': same('claude-opus-5-5'),
  'claude-opus-5': same('claude-opus-5'),
  'claude-opus-4-8': same('claude-opus-4-8'),
  'claude-opus-4-7': same('claude-opus-4-7'),
  'claude-opus-4-6': ids(
    'claude-opus-4-6',
    'us.anthropic.claude-opus-4-6-v1',
    'claude-opus-4-6',
    'claude-opus-4-6',
  ),
  'claude-opus-4-5': ids(
    'claude-opus-4-5-20251101',
    'us.anthropic.claude-opus-4-5-20251101-v1:0',
    'claude-opus-4-5@20251101',
    'claude-opus-4-5',
  ),
  'claude-opus-4-1': ids(
    'claude-opus-4-1-20250805',
    'us.anthropic.claude-opus-4-1-20250805-v1:0',
    'claude-opus-4-1@20250805',
    'claude-opus-4-1',
  ),
  'claude-opus-4-0': ids(
    'claude-opus-4-20250514',
    'us.anthropic.claude-opus-4-20250514-v1:0',
    'claude-opus-4@20250514',
    'claude-opus-4',
  ),
  'claude-sonnet-5-5': same('claude-sonnet-5-5'),
  'claude-sonnet-5': same('claude-sonnet-5'),
  'claude-sonnet-4-6': same('claude-sonnet-4-6'),
  'claude-sonnet-4-5': ids(
    'claude-sonnet-4-5-20250929',
    'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'claude-sonnet-4-5@20250929',
    'claude-sonnet-4-5',
  ),
  'claude-sonnet-4-0': ids(
    'claude-sonnet-4-20250514',
    'us.anthropic.claude-sonnet-4-20250514-v1:0',
    'claude-sonnet-4@20250514',
    'claude-sonnet-4',
  ),
  'claude-3-7-sonnet': ids(
    'claude-3-7-sonnet-20250219',
    'us.anthropic.claude-3-7-sonnet-20250219-v1:0',
    'claude-3-7-sonnet@20250219',
    'claude-3-7-sonnet',
  ),
  'claude-haiku-5-5': same('claude-haiku-5-5'),
  'claude-haiku-4-5': ids(
    'claude-haiku-4-5-20251001',
    'us.anthropic.claude-haiku-4-5-20251001-v1:0',
    'claude-haiku-4-5@20251001',
    'claude-haiku-4-5',
  ),
  'claude-3-5-haiku': ids(
    'claude-3-5-haiku-20241022',
    'us.anthropic.claude-3-5-haiku-20241022-v1:0',
    'claude-3-5-haiku@20241022',
    'claude-3-5-haiku',
  ),
  'claude-fable-5-2': same('claude-fable-5-2'),
  'claude-fable-5-1': same('claude-fable-5-1'),
  'claude-fable-5': same('claude-fable-5'),
  // Served on the Anthropic API only.
  'claude-mythos-5-2': { anthropic: 'claude-mythos-5-2' },
  'claude-mythos-5-1': { anthropic: 'claude-mythos-5-1' },
  'claude-mythos-5': { anthropic: 'claude-mythos-5' },
};

/** A Bedrock id without its ARN and its cross-region prefix: `anthropic.claude-...`. */
function bedrockBase(id: string): string {
  const last = id.startsWith('arn:') ? (id.split('/').pop() ?? id) : id;
  return last.replace(/^[a-z]{2,6}\.(?=anthropic\.)/, '');
}

/** Every id a route knows a model by -> its short id. */
const KNOWN = new Map<string, string>();
for (const [short, m] of Object.entries(DEFAULT_MODELS)) {
  for (const id of [short, m.anthropic, m.vertex, m.foundry]) if (id) KNOWN.set(id, short);
  if (m.bedrock) KNOWN.set(bedrockBase(m.bedrock), short);
}

/** The short id of a model named by any route's id (Bedrock's with any region prefix or as an ARN). */
export function shortModelId(model: string): string | undefined {
  return KNOWN.get(model) ?? KNOWN.get(bedrockBase(model));
}

/**
 * The Anthropic API's id for a model a cloud-format client names (Bedrock's or Vertex AI's form);
 * an id the Anthropic API takes as it is (a short id, a dated id, an unknown one) stays.
 */
export function anthropicModelId(model: string): string {
  const short = shortModelId(model);
  if (!short || model === short) return model;
  return DEFAULT_MODELS[short]?.anthropic ?? model;
}

/**
 * The id `provider` knows `model` by: the upstream's own table (by the id as asked, then by its
 * short id), then the defaults. The Anthropic API takes any id it is given; Bedrock takes an id
 * already in its own form (`…anthropic.…` or an ARN); otherwise an unknown model has no id.
 */
export function upstreamModelId(
  provider: Provider,
  table: Readonly<Record<string, string>>,
  model: string,
): string | undefined {
  const short = shortModelId(model);
  const listed = table[model] ?? (short ? table[short] : undefined);
  if (listed) return listed;
  const known = short ? DEFAULT_MODELS[short]?.[provider] : undefined;
  if (provider === 'anthropic') return short && model !== known && model !== short ? (known ?? model) : model;
  if (known) return known;
  if (provider === 'bedrock' && /(^|\.)anthropic\.|^arn:aws/.test(model)) return model;
  return undefined;
}
