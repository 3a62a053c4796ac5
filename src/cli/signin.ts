/** `sluice signin sessions|revoke`: company sign-in's sessions, listed and ended by an administrator. */
import type { Command } from 'commander';
import { listSignInSessions, revokeSignInSessions, type SessionView } from '../control/signin-sessions.js';
import { cliActor } from './actor.js';
import { DEFAULT_CONFIG, openConfiguredStore } from './admin-config.js';
import { CliError } from './exit.js';
import { formatOption, table } from './format.js';

export function registerSignin(program: Command): void {
  const signin = program
    .command('signin')
    .description("List and end company sign-in sessions (Claude Code signed in with the company's IdP)");
  registerSessions(signin);
  registerRevoke(signin);
}

function sessionsTable(list: readonly SessionView[]): string {
  return table([
    ['ID', 'ORG', 'USER', 'ROLE', 'GROUPS', 'STATE', 'SIGNED IN', 'REFRESHED', 'ENDS'],
    ...list.map((s) => [
      s.id,
      s.org,
      s.user,
      s.role,
      s.groups.join(',') || '-',
      s.state,
      s.createdAt,
      s.refreshedAt ?? '-',
      s.revokedAt ?? s.expiresAt,
    ]),
  ]);
}

function registerSessions(signin: Command): void {
  signin
    .command('sessions')
    .description('List sign-in sessions (live ones; --all adds ended and expired ones); never a token')
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('--org <org>', 'only this org')
    .option('--user <email>', 'only this person (email, any case)')
    .option('--all', 'also sessions that were revoked or expired', false)
    .addOption(formatOption(['table', 'json']))
    .addHelpText(
      'after',
      '\nExample:\n  sluice signin sessions --org acme\n  sluice signin sessions --user dev@acme.example --all --format json\n',
    )
    .action(async (o: { config: string; org?: string; user?: string; all: boolean; format: string }) => {
      const { config, store } = await openConfiguredStore(o.config);
      try {
        if (o.org !== undefined && !config.orgs[o.org])
          throw new CliError(
            `no org "${o.org}" in ${o.config} (orgs: ${Object.keys(config.orgs).join(', ') || 'none'})`,
          );
        const list = await listSignInSessions(
          store,
          { ...(o.org ? { org: o.org } : {}), ...(o.user ? { user: o.user } : {}), all: o.all },
          new Date(),
        );
        process.stdout.write(
          o.format === 'json' ? JSON.stringify(list, null, 2) + '\n' : sessionsTable(list),
        );
      } finally {
        await store.close();
      }
    });
}

function registerRevoke(signin: Command): void {
  signin
    .command('revoke')
    .description(
      'End a sign-in session, or every session of a person: their tokens are refused within 5 seconds on every gateway',
    )
    .argument('[session-id]', 'the session (ses_…, see signin sessions)')
    .option('--user <email>', 'every live session of this person instead')
    .option('--org <org>', 'with --user: only their sessions in this org')
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG)
    .addOption(formatOption(['table', 'json']))
    .addHelpText(
      'after',
      '\nExample:\n  sluice signin revoke ses_0123456789abcdef01234567\n  sluice signin revoke --user leaver@acme.example\n',
    )
    .action(
      async (id: string | undefined, o: { user?: string; org?: string; config: string; format: string }) => {
        if ((id === undefined) === (o.user === undefined))
          throw new CliError('signin revoke needs a session id or --user EMAIL (one of them)');
        if (id !== undefined && o.org !== undefined)
          throw new CliError('--org goes with --user; a session id names one session already');
        const { store } = await openConfiguredStore(o.config);
        try {
          const target = id !== undefined ? { id } : { user: o.user!, ...(o.org ? { org: o.org } : {}) };
          const ended = await revokeSignInSessions(store, new Date(), cliActor(), target);
          if (!ended.length)
            throw new CliError(
              id !== undefined
                ? `no live sign-in session with id ${id} (see sluice signin sessions)`
                : `no live sign-in session of ${o.user}${o.org ? ` in org ${o.org}` : ''} (see sluice signin sessions --user ${o.user})`,
            );
          if (o.format === 'json') process.stdout.write(JSON.stringify(ended, null, 2) + '\n');
          else for (const s of ended) process.stdout.write(`revoked ${s.id} (${s.user}, ${s.org})\n`);
        } finally {
          await store.close();
        }
      },
    );
}
