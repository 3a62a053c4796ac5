/** `sluice sandbox run|check`: Claude Code in an isolated sandbox on this host (see docs/sandbox.md). */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { ConfigError, loadConfig, type SluiceConfig } from '../control/config.js';
import { locateClaude, probeHost, sandboxIdentity, type HostSupport } from '../sandbox/host.js';
import { defaultCgroupHost, LimitsUnavailableError } from '../sandbox/limits.js';
import { SandboxPolicyError } from '../sandbox/policy.js';
import { RUNNER } from '../sandbox/bwrap.js';
import { runSandboxSession, type SandboxOutcome } from '../sandbox/session.js';
import { openStore } from '../store/index.js';
import { DEFAULT_CONFIG } from './admin-config.js';
import { CliError, EXIT } from './exit.js';
import { formatOption, table } from './format.js';

interface RunFlags {
  config: string;
  org: string;
  user: string;
  repo: string;
  prompt?: string;
  gateway?: string;
  claude?: string;
  bwrap: string;
  format: 'text' | 'json';
}

const RUN_HELP = `
Examples:
  sluice sandbox run --org acme --user dev@acme.example \\
    --repo https://github.com/acme/widgets.git -p "fix the failing test and push"
  sluice sandbox run --org acme --user dev@acme.example --repo https://github.com/acme/widgets.git
  sluice sandbox run ... -p "..." -- --output-format stream-json --verbose

The session's output streams to this terminal; Sluice's own lines go to stderr. Arguments after
-- go to Claude Code. Exit code: 0 when the session ended by itself with status 0, 1 when it
failed, ran out of time or was interrupted, 2 when it could not start.
`;

/** Loads the config as admin verbs do (unset ${VAR}s allowed: the sandbox never uses the upstream keys). */
async function loadSandboxConfig(file: string): Promise<SluiceConfig> {
  try {
    return await loadConfig(file, process.env, { allowUnsetEnv: true });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
}

/** The gateway as the sandbox reaches it: --gateway, else server.host and server.port of the config. */
export function gatewayTarget(config: SluiceConfig, flag?: string): { host: string; port: number } {
  if (flag !== undefined) {
    let url: URL;
    try {
      url = new URL(flag);
    } catch {
      throw new CliError(`--gateway: expected a URL such as http://127.0.0.1:8787, got "${flag}"`);
    }
    if (url.protocol !== 'http:')
      throw new CliError('--gateway: expected http:// (the sandbox reaches the gateway over a local bridge)');
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) };
  }
  const host = ['0.0.0.0', '::', ''].includes(config.server.host) ? '127.0.0.1' : config.server.host;
  return { host, port: config.server.port };
}

function summary(o: SandboxOutcome): string {
  const lines = [
    `session ${o.session} ended: ${o.ended}${o.exitCode === null ? '' : ` (exit ${o.exitCode})`}`,
    `  branch: ${o.branch}`,
    `  limits: ${o.limits.join('; ')}`,
    `  git: ${o.git.map((g) => `${g.operation} ${g.result}`).join('; ') || 'nothing'}`,
    `  transcript: ${o.transcript.kept ? `kept in ${o.transcript.folder}` : `not kept (${o.transcript.why})`}`,
  ];
  return lines.map((l) => `sluice sandbox: ${l}\n`).join('');
}

async function run(flags: RunFlags, claudeArgs: string[]): Promise<void> {
  const config = await loadSandboxConfig(flags.config);
  const configDir = dirname(resolve(flags.config));
  const gateway = gatewayTarget(config, flags.gateway);
  const claude = await locateClaude(flags.claude, process.env.PATH ?? '').catch((err: Error) => {
    throw new CliError(err.message);
  });
  const store = await openStore(config.storage, configDir).catch((err: Error) => {
    throw new CliError(`cannot open the store: ${err.message}`);
  });
  // A supervisor whose terminal went away must still tear its sandbox down, not die on EPIPE.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.once('SIGHUP', stop);
  try {
    const outcome = await runSandboxSession(
      {
        org: flags.org,
        user: flags.user,
        repository: flags.repo,
        ...(flags.prompt !== undefined ? { prompt: flags.prompt } : {}),
        claudeArgs,
      },
      {
        env: process.env,
        store,
        config,
        configDir,
        gateway,
        claude,
        node: process.execPath,
        runner: RUNNER,
        bwrap: flags.bwrap,
        runBase: tmpdir(),
        cgroups: await defaultCgroupHost(),
        identity: sandboxIdentity(config.sandbox),
        clock: () => new Date(),
        random: randomBytes,
        status: (line) => process.stderr.write(`sluice sandbox: ${line}\n`),
        signal: abort.signal,
      },
    );
    if (flags.format === 'json') process.stdout.write(JSON.stringify(outcome) + '\n');
    else process.stderr.write(summary(outcome));
    process.exitCode = outcome.ended === 'exited' && outcome.exitCode === 0 ? EXIT.ok : EXIT.findings;
  } catch (err) {
    if (err instanceof SandboxPolicyError || err instanceof LimitsUnavailableError)
      throw new CliError(err.message);
    throw err;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.off('SIGHUP', stop);
    await store.close();
  }
}

function checkTable(s: HostSupport): string {
  return table([
    ['CHECK', 'OK', 'DETAIL'],
    ...Object.entries(s).map(([name, c]) => [name, c.ok ? 'yes' : 'NO', c.detail]),
  ]);
}

export function registerSandbox(program: Command): void {
  const sandbox = program
    .command('sandbox')
    .description(
      'Claude Code sessions in an isolated sandbox: one repository, no host credentials, no network but Sluice',
    );
  sandbox
    .command('run')
    .description('Run a Claude Code session on a fresh clone of one repository inside a sandbox')
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG)
    .requiredOption('--org <org>', 'the org whose sandbox policy applies')
    .requiredOption('--user <email>', 'who the session runs for (its key, its commits)')
    .requiredOption('--repo <url>', 'the repository to clone (allowed by orgs.<org>.sandbox.repositories)')
    .option(
      '-p, --prompt <prompt>',
      'run non-interactively with this prompt (default: an interactive session)',
    )
    .option('--gateway <url>', 'the Sluice gateway (default: server.host and server.port of the config)')
    .option(
      '--claude <path>',
      'the native Claude Code binary (default: the npm package beside Sluice, or claude on PATH)',
    )
    .option('--bwrap <path>', 'the bubblewrap binary', 'bwrap')
    .addOption(
      new Option('--format <format>', 'the end-of-session summary: text on stderr, or json on stdout')
        .choices(['text', 'json'])
        .default('text'),
    )
    .argument('[claude-args...]', 'more arguments for Claude Code (after --)')
    .addHelpText('after', RUN_HELP)
    .action((claudeArgs: string[], flags: RunFlags) => run(flags, claudeArgs));

  sandbox
    .command('check')
    .description(
      'Say whether this host can run sandboxes: bubblewrap, namespaces, resource limits, Claude Code',
    )
    .option('--config <file>', 'configuration file (for the sandbox user)', DEFAULT_CONFIG)
    .option('--claude <path>', 'the native Claude Code binary')
    .option('--bwrap <path>', 'the bubblewrap binary', 'bwrap')
    .addOption(formatOption(['table', 'json']))
    .addHelpText(
      'after',
      '\nExample:\n  sudo sluice sandbox check --format json\n\nExit code 1 when something a sandbox needs is missing.\n',
    )
    .action(async (flags: { config: string; claude?: string; bwrap: string; format: string }) => {
      const config = await loadSandboxConfig(flags.config).catch(() => null);
      const support = await probeHost({
        bwrap: flags.bwrap,
        identity: sandboxIdentity(config?.sandbox ?? { uid: 65534, gid: 65534 }),
        cgroups: await defaultCgroupHost(),
        ...(flags.claude ? { claude: flags.claude } : {}),
        path: process.env.PATH ?? '',
      });
      process.stdout.write(
        flags.format === 'json' ? JSON.stringify(support, null, 2) + '\n' : checkTable(support),
      );
      process.exitCode = Object.values(support).every((c) => c.ok) ? EXIT.ok : EXIT.findings;
    });
}
