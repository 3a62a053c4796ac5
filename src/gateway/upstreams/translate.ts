/**
 * The Messages body as each cloud wants it. Bedrock and Vertex AI take the model in the URL and
 * the API version in the body; Bedrock also takes the betas in the body and the stream choice
 * from the URL. Everything else (system, messages, tools, cache_control, thinking, unknown new
 * fields) passes byte for byte (members.ts), so a resent history keeps the same prefix and the
 * cloud's prompt cache still hits.
 */
import { memberValue, rewriteMembers, topLevelMembers } from './members.js';
import { anthropicModelId } from './models.js';

export const BEDROCK_VERSION = 'bedrock-2023-05-31';
export const VERTEX_VERSION = 'vertex-2023-10-16';

/** Betas Claude Code keeps in its header on Bedrock and never puts in the body (seen with 2.1.330). */
const BEDROCK_HEADER_ONLY = new Set(['claude-code-20250219']);

const MODEL_AND_STREAM = new Set(['model', 'stream']);
const MODEL = new Set(['model']);
const CLOUD_FIELDS = new Set(['anthropic_version', 'anthropic_beta', 'model', 'stream']);

/** The body of InvokeModel(WithResponseStream): no model or stream; version and betas in the body. */
export function toBedrockBody(body: Buffer, betas: readonly string[]): Buffer {
  const inBody = betas.filter((b) => !BEDROCK_HEADER_ONLY.has(b));
  return rewriteMembers(body, topLevelMembers(body), MODEL_AND_STREAM, {
    anthropic_version: BEDROCK_VERSION,
    anthropic_beta: inBody.length ? inBody : undefined,
  });
}

/** The body of rawPredict / streamRawPredict: no model (it is in the URL); the version in the body. */
export function toVertexBody(body: Buffer, keepModel: string | null): Buffer {
  return rewriteMembers(body, topLevelMembers(body), MODEL, {
    anthropic_version: VERTEX_VERSION,
    model: keepModel ?? undefined,
  });
}

/** The same body naming the model `id` (bytes unchanged when it already does). */
export function withModel(body: Buffer, current: string | null, id: string): Buffer {
  if (current === id) return body;
  return rewriteMembers(body, topLevelMembers(body), MODEL, { model: id });
}

/**
 * A cloud-format body (Bedrock's or Vertex AI's) as a Messages body for `model` (null: keep the
 * body's own, as Vertex AI's count-tokens has it), with the betas it carried.
 */
export function fromCloudBody(
  body: Buffer,
  model: string | null,
  stream: boolean,
): { body: Buffer; betas: string[] } {
  const members = topLevelMembers(body);
  let own: unknown;
  let betas: string[] = [];
  for (const m of members) {
    if (m.key === 'model') own = memberValue(body, m);
    if (m.key !== 'anthropic_beta') continue;
    const value = memberValue(body, m);
    betas = Array.isArray(value) ? value.filter((b): b is string => typeof b === 'string') : [];
  }
  const named = model ?? (typeof own === 'string' ? anthropicModelId(own) : own);
  return {
    body: rewriteMembers(body, members, CLOUD_FIELDS, { model: named, stream: stream ? true : undefined }),
    betas,
  };
}
