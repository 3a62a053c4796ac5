/**
 * `sluice login`, `sluice token`, `sluice logout`: company sign-in from a terminal, for routes that
 * cannot sign in themselves (scripts, CI, a client in a cloud's format, Claude Code's
 * `apiKeyHelper`). The device flow and refresh are in signin/client.ts, the token file in
 * signin/credentials.ts.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import {
  discover,
  gatewayBase,
  pollForTokens,
  refreshTokens,
  revokeToken,
  SignInClientError,
  startDeviceAuthorization,
  type ClientDeps,
  type DeviceAuthorization,
} from '../signin/client.js';
import { configDir, CredentialStore, type StoredSignIn } from '../signin/credentials.js';
import type { VerbIo } from './audit.js';
import { CliError, EXIT } from './exit.js';
import { formatOption } from './format.js';

/** What the verbs reach the world through; tests pass their own clock or fetch. */
export interface LoginIo extends Pick<VerbIo, 'stdout' | 'stderr' | 'env'> {
  client?: Partial<ClientDeps>;
}

function clientDeps(io: LoginIo): ClientDeps {
  return { fetch, now: Date.now, sleep: (ms) => sleep(ms), ...io.client };
}

function writers(io: LoginIo) {
  return {
    out: io.stdout ?? ((s: string) => void process.stdout.write(s)),
    err: io.stderr ?? ((s: string) => void process.stderr.write(s)),
  };
}

/** A client error as the CLI's: a refusal means "sign in again" (exit 2), the rest may pass (exit 1). */
function asCli(err: unknown, exitCode: number = EXIT.usage): never {
  if (err instanceof SignInClientError) throw new CliError(err.message, err.refused ? EXIT.usage : exitCode);
  throw err;
}

/** The gateway a verb is about: `--gateway`, else `$SLUICE_GATEWAY`, else the last one signed in to. */
async function chosenGateway(flag: string | undefined, store: CredentialStore, env: NodeJS.ProcessEnv) {
  const given = flag ?? env.SLUICE_GATEWAY;
  if (given) {
    try {
      return gatewayBase(given);
    } catch (err) {
      return asCli(err);
    }
  }
  const current = (await store.read()).current;
  if (!current)
    throw new CliError('not signed in to any gateway: run `sluice login --gateway URL`', EXIT.usage);
  return current;
}

function openInBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', url]]
        : ['xdg-open', [url]];
  const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
  child.on('error', () => {});
  child.unref();
}

function instructions(base: string, grant: DeviceAuthorization): string {
  const minutes = Math.max(1, Math.round((grant.expiresAt - Date.now()) / 60_000));
  return (
    `To sign in to ${base}, open\n  ${grant.verificationUri}\nin a browser and enter the code\n  ${grant.userCode}\n` +
    (grant.verificationUriComplete ? `(or open ${grant.verificationUriComplete})\n` : '') +
    `Waiting for the sign-in to complete; the code expires in about ${minutes} minutes.\n`
  );
}

export function registerLogin(program: Command, io: LoginIo = {}): void {
  registerLoginVerb(program, io);
  registerTokenVerb(program, io);
  registerLogoutVerb(program, io);
}

function registerLoginVerb(program: Command, io: LoginIo): void {
  program
    .command('login')
    .description(
      "Sign in to a Sluice gateway with the company's identity provider (device flow), for `sluice token`.",
    )
    .option(
      '--gateway <url>',
      "the gateway's public URL (default: $SLUICE_GATEWAY, else the last one signed in to)",
    )
    .option('--open', 'also open the verification page in the default browser')
    .addOption(formatOption(['text', 'json']))
    .addHelpText(
      'after',
      `
Prints a URL and a code; open the URL in any browser (on any device), enter the code and sign in.
Nothing is opened unless --open is given. The tokens go to ${'`'}credentials.json${'`'} (mode 0600) in
$SLUICE_CONFIG_DIR, else $XDG_CONFIG_HOME/sluice, else ~/.config/sluice (%APPDATA%\\sluice on Windows).

Exit codes: 0 signed in; 2 refused, denied, expired or not reachable.

Examples:
  $ sluice login --gateway https://sluice.example.com
  $ sluice login --gateway https://sluice.example.com --open`,
    )
    .action(async (flags: { gateway?: string; open?: boolean; format: string }) => {
      const { out, err } = writers(io);
      const deps = clientDeps(io);
      const store = new CredentialStore(configDir(io.env ?? process.env));
      const base = await chosenGateway(flags.gateway, store, io.env ?? process.env);
      try {
        const endpoints = await discover(base, deps);
        const grant = await startDeviceAuthorization(endpoints, deps);
        err(instructions(base, grant));
        if (flags.open) openInBrowser(grant.verificationUriComplete ?? grant.verificationUri);
        const tokens = await pollForTokens(endpoints, grant, deps);
        await store.save(endpoints, tokens);
        const who = tokens.email ? ` as ${tokens.email}` : '';
        if (flags.format === 'json')
          out(JSON.stringify({ gateway: base, email: tokens.email ?? null, file: store.file }) + '\n');
        else out(`Signed in to ${base}${who}. Tokens are in ${store.file}; \`sluice token\` prints one.\n`);
      } catch (e) {
        asCli(e);
      }
      process.exitCode = EXIT.ok;
    });
}

function registerTokenVerb(program: Command, io: LoginIo): void {
  program
    .command('token')
    .description(
      "Print a short-lived access token for the gateway signed in to (Claude Code's apiKeyHelper).",
    )
    .option('--gateway <url>', 'which gateway (default: $SLUICE_GATEWAY, else the last one signed in to)')
    .option('--min-valid <seconds>', 'renew first when the token has less than this left', '300')
    .addOption(formatOption(['text', 'json']))
    .addHelpText(
      'after',
      `
Prints the stored access token, renewed first with the refresh token when it has less than
--min-valid seconds left (the refresh token rotates; the file is updated under a lock).
In Claude Code's settings: "apiKeyHelper": "sluice token", with ANTHROPIC_BASE_URL the gateway's URL
and CLAUDE_CODE_API_KEY_HELPER_TTL_MS below --min-valid (docs/sign-in.md).

Exit codes: 0 token printed; 1 the gateway could not renew it now (try again);
2 not signed in, or the gateway refused to renew the sign-in: run \`sluice login\` again.

Examples:
  $ sluice token
  $ curl -H "Authorization: Bearer $(sluice token)" https://sluice.example.com/v1/models`,
    )
    .action(async (flags: { gateway?: string; minValid: string; format: string }) => {
      const { out, err } = writers(io);
      const minValid = Number(flags.minValid);
      if (!Number.isFinite(minValid) || minValid < 0)
        throw new CliError(`--min-valid must be a number of seconds, got "${flags.minValid}"`, EXIT.usage);
      const deps = clientDeps(io);
      const store = new CredentialStore(configDir(io.env ?? process.env));
      const base = await chosenGateway(flags.gateway, store, io.env ?? process.env);
      const entry = await freshToken(store, base, minValid * 1000, deps, err);
      if (flags.format === 'json')
        out(
          JSON.stringify({
            gateway: base,
            access_token: entry.accessToken,
            expires_at: new Date(entry.expiresAt).toISOString(),
          }) + '\n',
        );
      else out(`${entry.accessToken}\n`);
      process.exitCode = EXIT.ok;
    });
}

/** The stored token for `base`, renewed first (under the lock) when less than `minValidMs` is left. */
async function freshToken(
  store: CredentialStore,
  base: string,
  minValidMs: number,
  deps: ClientDeps,
  warn: (s: string) => void,
): Promise<StoredSignIn> {
  const again = `run \`sluice login --gateway ${base}\` to sign in again`;
  const fresh = (e: StoredSignIn | undefined) => e && e.expiresAt - deps.now() > minValidMs;
  const first = (await store.read()).gateways[base];
  if (!first) throw new CliError(`not signed in to ${base}: ${again.replace(' again', '')}`, EXIT.usage);
  if (fresh(first)) return first;
  return store.locked(async () => {
    // Another `sluice token` may have renewed it while this one waited for the lock.
    const entry = (await store.read()).gateways[base];
    if (!entry) throw new CliError(`not signed in to ${base}: ${again.replace(' again', '')}`, EXIT.usage);
    if (fresh(entry)) return entry;
    if (!entry.refreshToken)
      throw new CliError(
        `the sign-in to ${base} expires and the gateway gave no refresh token: ${again}`,
        EXIT.usage,
      );
    try {
      const next: StoredSignIn = {
        ...entry,
        ...(await refreshTokens(entry.tokenEndpoint, entry.refreshToken, deps)),
      };
      await store.update(base, next);
      return next;
    } catch (e) {
      if (!(e instanceof SignInClientError)) throw e;
      if (e.refused) {
        await store.update(base, null);
        throw new CliError(`${e.message}: ${again}`, EXIT.usage);
      }
      // Not refused, only not now: a token that still works is better than none.
      if (entry.expiresAt - deps.now() > 10_000) {
        warn(
          `sluice: ${e.message}; printing the current token, valid until ${new Date(entry.expiresAt).toISOString()}\n`,
        );
        return entry;
      }
      throw new CliError(`${e.message}; try again shortly`, EXIT.findings);
    }
  }, deps);
}

function registerLogoutVerb(program: Command, io: LoginIo): void {
  program
    .command('logout')
    .description('Sign out of a Sluice gateway: revoke the stored tokens there and forget them.')
    .option('--gateway <url>', 'which gateway (default: $SLUICE_GATEWAY, else the last one signed in to)')
    .addOption(formatOption(['text', 'json']))
    .addHelpText(
      'after',
      `\nExit codes: 0 signed out (locally, at least); 2 not signed in.\n\nExample:\n  $ sluice logout`,
    )
    .action(async (flags: { gateway?: string; format: string }) => {
      const { out, err } = writers(io);
      const deps = clientDeps(io);
      const store = new CredentialStore(configDir(io.env ?? process.env));
      const base = await chosenGateway(flags.gateway, store, io.env ?? process.env);
      const entry = (await store.read()).gateways[base];
      if (!entry) throw new CliError(`not signed in to ${base}`, EXIT.usage);
      let revoked = false;
      if (entry.revocationEndpoint) {
        revoked = await revokeToken(entry.revocationEndpoint, entry.accessToken, 'access_token', deps);
        if (entry.refreshToken)
          revoked =
            (await revokeToken(entry.revocationEndpoint, entry.refreshToken, 'refresh_token', deps)) &&
            revoked;
      }
      await store.update(base, null);
      if (!revoked)
        err(`sluice: ${base} did not confirm the revocation; the tokens were forgotten here only\n`);
      if (flags.format === 'json') out(JSON.stringify({ gateway: base, revoked }) + '\n');
      else out(`Signed out of ${base}.\n`);
      process.exitCode = EXIT.ok;
    });
}
