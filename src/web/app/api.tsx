/** The console's calls to the gateway: the session cookie goes along, the CSRF token on every action. */

export interface Caller {
  org: string | null;
  user: string;
  role: 'admin' | 'auditor' | 'member';
}

export interface SessionInfo {
  signedIn: true;
  csrf: string;
  caller: Caller;
  orgs: string[];
}

/** The company IdP the console offers to sign in with (`signin:` configured). */
export interface IdpInfo {
  label: string;
  /** Why this browser's last round trip through the IdP failed (told once). */
  signinError?: string;
}

/** An error the gateway answered with, in the Anthropic shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let csrf = '';

export function setCsrf(token: string): void {
  csrf = token;
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError(res.status, `The gateway answered ${res.status} with something other than JSON.`);
  }
  if (!res.ok) {
    const message =
      (parsed as { error?: { message?: string } }).error?.message ?? `The gateway answered ${res.status}.`;
    throw new ApiError(res.status, message);
  }
  return parsed as T;
}

/** The admin API's route `path` (after /admin/v1), through the console session. */
export const admin = (path: string) => `/console/api/admin/v1${path}`;
/** One of the console's own views of `org`. */
export const view = (org: string, name: string, query = '') =>
  `/console/api/orgs/${encodeURIComponent(org)}/${name}${query ? `?${query}` : ''}`;
