/**
 * Runs `git http-backend` (git's own smart-HTTP server, a CGI program) for one request: the request
 * body goes to its stdin, and its CGI answer (a `Status:` line, headers, a blank line, the body) is
 * returned as status, headers and a body stream. Used by the git proxy for pushes into a session's
 * mirror, and by the test forge.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface CgiRequest {
  method: string;
  /** The path below the project root, e.g. `/widgets.git/info/refs`. */
  pathInfo: string;
  /** The query string without `?`. */
  query: string;
  contentType?: string | undefined;
  /** `gzip` when the body is compressed (http-backend inflates it). */
  contentEncoding?: string | undefined;
  /** The client's `Git-Protocol` header (`version=2`). */
  gitProtocol?: string | undefined;
  /** Who is pushing; http-backend serves receive-pack only to a named user unless enabled outright. */
  remoteUser?: string | undefined;
  body: Readable | Buffer | null;
}

export interface CgiResponse {
  status: number;
  headers: Record<string, string>;
  body: Readable;
  /** Resolves with the program's exit code and what it wrote to stderr once it has ended. */
  exited: Promise<{ code: number | null; stderr: string }>;
}

export interface HttpBackendOptions {
  /** The folder holding the repositories (GIT_PROJECT_ROOT). */
  projectRoot: string;
  /** The PATH git runs with. */
  path: string;
  /** More environment for git (for example GIT_CONFIG_* settings); nothing of this process's passes except PATH. */
  env?: Record<string, string>;
  git?: string;
  /** Ends the program (a session that is over). */
  signal?: AbortSignal;
}

const MAX_HEAD = 16 * 1024;

/** Starts `git http-backend` for `req` and resolves once its response head has been read. */
export function runHttpBackend(options: HttpBackendOptions, req: CgiRequest): Promise<CgiResponse> {
  const env: Record<string, string> = {
    PATH: options.path,
    GIT_PROJECT_ROOT: options.projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    REQUEST_METHOD: req.method,
    PATH_INFO: req.pathInfo,
    QUERY_STRING: req.query,
    ...(req.contentType ? { CONTENT_TYPE: req.contentType } : {}),
    ...(req.contentEncoding ? { HTTP_CONTENT_ENCODING: req.contentEncoding } : {}),
    ...(req.gitProtocol ? { GIT_PROTOCOL: req.gitProtocol } : {}),
    ...(req.remoteUser ? { REMOTE_USER: req.remoteUser, REMOTE_ADDR: '127.0.0.1' } : {}),
    ...options.env,
  };
  const child = spawn(options.git ?? 'git', ['http-backend'], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.signal ? { signal: options.signal, killSignal: 'SIGKILL' as const } : {}),
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 64 * 1024) stderr += d.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stderr })),
  );
  child.stdin.on('error', () => undefined);
  if (req.body === null) child.stdin.end();
  else if (Buffer.isBuffer(req.body)) child.stdin.end(req.body);
  else req.body.pipe(child.stdin);
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = headEnd(head);
      if (end === null) {
        if (head.length > MAX_HEAD) fail(new Error('git http-backend wrote no CGI header'));
        return;
      }
      child.stdout.off('data', onData);
      child.stdout.pause();
      const parsed = parseCgiHead(head.subarray(0, end.at).toString('latin1'));
      const rest = head.subarray(end.at + end.length);
      if (rest.length) child.stdout.unshift(rest);
      resolve({ ...parsed, body: child.stdout, exited });
    };
    const fail = (err: Error) => {
      child.kill('SIGKILL');
      reject(err);
    };
    child.stdout.on('data', onData);
    child.on('error', fail);
    child.stdout.on('end', () => {
      if (headEnd(head) === null)
        void exited.then((e) => fail(new Error(`git http-backend: ${e.stderr.trim()}`)));
    });
  });
}

function headEnd(buf: Buffer): { at: number; length: number } | null {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, length: 4 };
  return lf >= 0 ? { at: lf, length: 2 } : null;
}

/** The status (from `Status:`, default 200) and headers of a CGI response head. */
export function parseCgiHead(text: string): { status: number; headers: Record<string, string> } {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'status') status = Number.parseInt(value, 10) || 502;
    else headers[name] = value;
  }
  return { status, headers };
}
