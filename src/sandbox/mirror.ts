/**
 * A session's mirror of its repository, on the host and never inside the sandbox. Pushes from the
 * sandbox land here first, where git itself refuses deletions and non-fast-forward updates
 * (`receive.denyNonFastForwards` compares against the commits it holds); only an update git
 * accepted is then pushed on to the forge, with the forge token, by a git process outside the
 * sandbox. The token reaches git through its environment (an `http.<url>.extraHeader` setting),
 * never through arguments or files.
 */
import { execFile } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';

export interface ForgeCredentials {
  username: string;
  token: string;
}

export interface MirrorOptions {
  /** The bare repository's folder (created on first use). */
  dir: string;
  /** The repository on the forge. */
  url: string;
  credentials: ForgeCredentials;
  /** Largest push accepted, bytes (receive.maxInputSize). */
  maxPushBytes: number;
  /** The PATH git runs with (the host's); nothing else of this process's environment passes. */
  path: string;
  git?: string;
  /** Ends every git process this mirror started. */
  signal?: AbortSignal;
}

export interface GitResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** Environment that keeps host git settings (credential helpers, URL rewrites) out of Sluice's git runs. */
export const ISOLATED_GIT_ENV: Record<string, string> = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  LC_ALL: 'C',
};

export class SessionMirror {
  private queue: Promise<unknown> = Promise.resolve();
  constructor(private readonly options: MirrorOptions) {}

  get dir(): string {
    return this.options.dir;
  }

  /** The PATH its git runs with. */
  get path(): string {
    return this.options.path;
  }

  /** Runs `fn` after every earlier mirror operation has finished (fetches and pushes never overlap). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Creates the mirror if needed and brings its branches and tags to the forge's state. */
  async refresh(): Promise<GitResult> {
    if (!(await exists(this.options.dir))) {
      await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
      const init = await this.git(['init', '--bare', '--quiet', this.options.dir], false);
      if (!init.ok) return init;
      for (const [k, v] of [
        ['receive.denyNonFastForwards', 'true'],
        ['receive.denyDeletes', 'true'],
        ['receive.fsckObjects', 'true'],
        ['receive.maxInputSize', String(this.options.maxPushBytes)],
        ['receive.autogc', 'false'],
        ['http.receivepack', 'true'],
        ['gc.auto', '0'],
        // No hooks run in the mirror, whatever the host's git would otherwise pick up.
        ['core.hooksPath', '/dev/null'],
      ] as const) {
        const set = await this.git(['config', k, v]);
        if (!set.ok) return set;
      }
    }
    return this.git(
      [
        'fetch',
        '--prune',
        '--quiet',
        this.options.url,
        '+refs/heads/*:refs/heads/*',
        '+refs/tags/*:refs/tags/*',
      ],
      true,
      true,
    );
  }

  /** The object a ref points at in the mirror, or null when it does not exist. */
  async refValue(ref: string): Promise<string | null> {
    const r = await this.git(['rev-parse', '--verify', '--quiet', `${ref}^{object}`]);
    return r.ok ? r.stdout.trim() : null;
  }

  /** Pushes `oid` to `ref` on the forge, never forced. */
  pushUpstream(oid: string, ref: string): Promise<GitResult> {
    return this.git(['push', '--porcelain', this.options.url, `${oid}:${ref}`], true, true);
  }

  /** Puts `ref` back to `to` (or deletes it) when it is still at `from`: a forge refusal undone. */
  rollback(ref: string, to: string | null, from: string): Promise<GitResult> {
    return this.git(to === null ? ['update-ref', '-d', ref, from] : ['update-ref', ref, to, from]);
  }

  private git(args: string[], inRepo = true, withToken = false): Promise<GitResult> {
    const { credentials, url } = this.options;
    const env: Record<string, string> = { PATH: this.options.path, ...ISOLATED_GIT_ENV };
    if (withToken) {
      const basic = Buffer.from(`${credentials.username}:${credentials.token}`).toString('base64');
      Object.assign(env, {
        GIT_CONFIG_COUNT: '2',
        GIT_CONFIG_KEY_0: `http.${url}.extraHeader`,
        GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
        // Credential helpers of any kind stay off: the header above is the only credential.
        GIT_CONFIG_KEY_1: 'credential.helper',
        GIT_CONFIG_VALUE_1: '',
      });
    }
    const full = inRepo ? ['-C', this.options.dir, ...args] : args;
    return new Promise((resolve) => {
      execFile(
        this.options.git ?? 'git',
        full,
        { env, maxBuffer: 4 * 1024 * 1024, ...(this.options.signal ? { signal: this.options.signal } : {}) },
        (err, stdout, stderr) => resolve({ ok: !err, stdout: String(stdout), stderr: String(stderr) }),
      );
    });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
