/**
 * A cloud's error answer as a catalog error: which kind of failure it is (credentials, throttling,
 * a model the account may not use, a model the region does not serve, a bad request, an outage),
 * with the cloud's own reason, scrubbed of account ids, ARNs and key ids.
 */
import { errors, type CloudUpstream, type SluiceError } from '../../errors/catalog.js';
import type { UpstreamAnswer } from '../context.js';
import { answerHeaders, readSmall, type ModelCall, type RawAnswer } from './adapter.js';

/** What a cloud said: its error's name (AWS error type, Google status, Anthropic or Azure type) and reason. */
export interface CloudReason {
  name: string;
  reason: string;
}

interface ErrorBody {
  message?: unknown;
  Message?: unknown;
  error?: { message?: unknown; type?: unknown; status?: unknown; code?: unknown };
}

/** Reads the error body of any of the clouds (AWS JSON, Google's `error`, Anthropic's envelope, Azure's). */
export function readCloudReason(text: string, headers: Record<string, string | string[]>): CloudReason {
  const amzn = String(headers['x-amzn-errortype'] ?? '').split(':')[0] ?? '';
  let body: ErrorBody | undefined;
  try {
    const parsed = JSON.parse(text) as ErrorBody | ErrorBody[];
    body = Array.isArray(parsed) ? parsed[0] : parsed;
  } catch {
    body = undefined;
  }
  const e = body?.error;
  const reason = [e?.message, body?.message, body?.Message].find((m) => typeof m === 'string') as
    string | undefined;
  const name = amzn || [e?.status, e?.type, e?.code].find((n) => typeof n === 'string') || '';
  return { name: String(name), reason: scrub(reason ?? text.slice(0, 300)) || 'no reason given' };
}

/** The cloud's words without what identifies the account: ARNs, account numbers, access key ids. */
export function scrub(text: string): string {
  return text
    .replace(/arn:aws[\w-]*:[^\s"',]*/g, 'arn:…')
    .replace(/\b(AKIA|ASIA)[A-Z0-9]{12,}\b/g, '…')
    .replace(/\b\d{12}\b/g, '…')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 500);
}

const CREDENTIALS =
  /UnrecognizedClient|ExpiredToken|InvalidSignature|IncompleteSignature|MissingAuthenticationToken|UNAUTHENTICATED|security token|signature|credential|expired|api key|subscription key/i;
const MODEL_UNAVAILABLE =
  /model identifier|model id|on-demand throughput|not (available|supported) in (this|the) region|publisher model|model .*not (found|supported)/i;

/** The catalog error for a cloud's error answer of `status`. */
export function cloudError(
  up: CloudUpstream,
  status: number,
  said: CloudReason,
  model: string,
  retryAfter?: string,
): SluiceError {
  const why = said.name ? `${said.name}: ${said.reason}` : said.reason;
  if (status === 401) return errors.cloudCredentials(up, why);
  if (status === 403)
    return CREDENTIALS.test(`${said.name} ${said.reason}`)
      ? errors.cloudCredentials(up, why)
      : errors.cloudModelDenied(up, model, why);
  if (status === 404) return errors.cloudModelUnavailable(up, model, why);
  if (status === 429) return errors.cloudThrottled(up, why, retryAfter);
  if (status === 408 || status === 504) return errors.cloudTimeout(up, why);
  if (status === 503 || status === 529) return errors.cloudOverloaded(up, why);
  if (status >= 500) return errors.cloudFailed(up, status, why);
  if (MODEL_UNAVAILABLE.test(said.reason)) return errors.cloudModelUnavailable(up, model, why);
  // The cloud's reason word for word: Claude Code's recovery reads it ("prompt is too long", ...).
  return errors.cloudInvalidRequest(up, said.reason);
}

/** A cloud's answer headers; an error status is thrown as its catalog error, with the cloud's reason. */
export async function cloudAnswerHeaders(
  cloud: CloudUpstream,
  raw: RawAnswer,
  call: ModelCall,
): Promise<Record<string, string | string[]>> {
  const headers = answerHeaders(raw.headers);
  if (raw.status < 400) return headers;
  const said = readCloudReason(await readSmall(raw.body), headers);
  throw cloudError(
    cloud,
    raw.status,
    said,
    call.model ?? '',
    String(headers['retry-after'] ?? '') || undefined,
  );
}

/** A cloud's answer in the Messages API's format already (Vertex, Foundry): passed on as it came. */
export async function passedCloudAnswer(
  cloud: CloudUpstream,
  raw: RawAnswer,
  call: ModelCall,
): Promise<UpstreamAnswer> {
  const headers = await cloudAnswerHeaders(cloud, raw, call);
  return {
    name: cloud.name,
    host: cloud.host,
    status: raw.status,
    headers,
    body: raw.body,
    sse: String(headers['content-type'] ?? '').includes('text/event-stream'),
  };
}
