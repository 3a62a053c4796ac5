/**
 * Where `sluice login` keeps a person's tokens: one JSON file (mode 0600, in a 0700 folder) under
 * the user's config dir, one entry per gateway, written atomically. Refreshing holds a lock file,
 * because the gateway rotates refresh tokens and treats a reused one as theft (it ends the session):
 * two `sluice token` runs at once must not both spend the same refresh token.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { GatewayEndpoints, SignInTokens } from './client.js';

/** One gateway's sign-in as stored. */
export interface StoredSignIn extends SignInTokens {
  tokenEndpoint: string;
  revocationEndpoint?: string;
}

export interface CredentialsFile {
  /** The gateway `sluice token` uses without `--gateway`: the last one signed in to. */
  current?: string;
  gateways: Record<string, StoredSignIn>;
}

/**
 * The folder: `$SLUICE_CONFIG_DIR`, else `%APPDATA%\sluice` on Windows, else
 * `$XDG_CONFIG_HOME/sluice`, else `~/.config/sluice`.
 */
export function configDir(env: NodeJS.ProcessEnv, platform = process.platform): string {
  if (env.SLUICE_CONFIG_DIR) return env.SLUICE_CONFIG_DIR;
  if (platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'sluice');
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'sluice');
}

export const CREDENTIALS_FILE = 'credentials.json';

export class CredentialStore {
  readonly file: string;

  constructor(readonly dir: string) {
    this.file = join(dir, CREDENTIALS_FILE);
  }

  async read(): Promise<CredentialsFile> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { gateways: {} };
      throw err;
    }
    const parsed = JSON.parse(text) as Partial<CredentialsFile>;
    return { ...parsed, gateways: parsed.gateways ?? {} };
  }

  /** Replaces the file in one step: a reader never sees half of it; 0600 from the first byte. */
  async write(content: CredentialsFile): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temp, JSON.stringify(content, null, 2) + '\n', { mode: 0o600 });
    await chmod(temp, 0o600);
    await rename(temp, this.file);
  }

  /** Stores `tokens` for the gateway of `endpoints` and makes it the current one. */
  async save(endpoints: GatewayEndpoints, tokens: SignInTokens): Promise<void> {
    const content = await this.read();
    content.gateways[endpoints.base] = {
      ...tokens,
      tokenEndpoint: endpoints.token,
      ...(endpoints.revocation ? { revocationEndpoint: endpoints.revocation } : {}),
    };
    content.current = endpoints.base;
    await this.write(content);
  }

  /** Updates one gateway's entry (`null` forgets it). */
  async update(base: string, entry: StoredSignIn | null): Promise<void> {
    const content = await this.read();
    if (entry) content.gateways[base] = entry;
    // `current` stays: the next `sluice login` or message names the gateway the person last used.
    else delete content.gateways[base];
    await this.write(content);
  }

  /**
   * Runs `fn` holding the refresh lock (a file created exclusively). A lock older than `staleMs` is
   * taken over: its holder died. Waits at most `waitMs` for another holder.
   */
  async locked<T>(
    fn: () => Promise<T>,
    deps: { now: () => number; sleep: (ms: number) => Promise<void> },
    waitMs = 20_000,
    staleMs = 30_000,
  ): Promise<T> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const lock = `${this.file}.lock`;
    const until = deps.now() + waitMs;
    for (;;) {
      try {
        await writeFile(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const age = await stat(lock).then(
          (s) => deps.now() - s.mtimeMs,
          () => 0,
        );
        if (age > staleMs) await rm(lock, { force: true });
        else if (deps.now() > until)
          throw new Error(`${lock} is held by another sluice token; remove it if none is running`, {
            cause: err,
          });
        else await deps.sleep(50);
      }
    }
    try {
      return await fn();
    } finally {
      await rm(lock, { force: true });
    }
  }
}
