/** `sluice keys create|list|revoke`: gateway keys, shown once and stored hashed. */
import { Option, type Command } from 'commander';
import { recordAdmin } from '../control/admin-log.js';
import { cliActor } from './actor.js';
import { createKey } from '../control/keys.js';
import type { Role } from '../store/types.js';
import { DEFAULT_CONFIG, openConfiguredStore } from './admin-config.js';
import { CliError } from './exit.js';
import { formatOption, table } from './format.js';

/** `--expires`: a duration from `now` (30m, 8h, 7d) or a date; it must lie in the future. */
export function parseExpires(value: string, now: Date): Date {
  const m = /^(\d+)([mhd])$/.exec(value);
  const at = m
    ? new Date(now.getTime() + Number(m[1]) * { m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 'm' | 'h' | 'd'])
    : new Date(Date.parse(value));
  if (Number.isNaN(at.getTime()))
    throw new CliError(`--expires: expected a duration (30m, 8h, 7d) or a date (2026-12-01), got "${value}"`);
  if (at.getTime() <= now.getTime())
    throw new CliError(`--expires: ${at.toISOString()} is not in the future`);
  return at;
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('Create, list and revoke gateway keys');

  keys
    .command('create')
    .description('Create a key for a user of an org; prints the key once, as the last line')
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG)
    .requiredOption('--org <org>', 'organization (declared under orgs: in the config)')
    .requiredOption('--user <email>', 'the e-mail address of the person the key belongs to')
    .addOption(new Option('--role <role>', 'role').choices(['member', 'admin', 'auditor']).default('member'))
    .option('--expires <when>', 'the key stops working after a duration (30m, 8h, 7d) or at a date')
    .addHelpText(
      'after',
      '\nExample:\n  sluice keys create --org acme --user dev@acme.example\n  sluice keys create --org acme --user ci@acme.example --expires 8h\n',
    )
    .action(async (o: { config: string; org: string; user: string; role: Role; expires?: string }) => {
      if (!/^[^\s@]+@[^\s@]+$/.test(o.user))
        throw new CliError(
          `--user: expected the e-mail address of the person the key belongs to (dev@acme.example), got "${o.user}"`,
        );
      const expiresAt = o.expires === undefined ? undefined : parseExpires(o.expires, new Date());
      const { config, store } = await openConfiguredStore(o.config);
      try {
        if (!config.orgs[o.org]) {
          throw new CliError(
            `no org "${o.org}" in ${o.config} (orgs: ${Object.keys(config.orgs).join(', ') || 'none'})`,
          );
        }
        const { key, record } = await createKey(
          store,
          { org: o.org, user: o.user, role: o.role, ...(expiresAt ? { expiresAt } : {}) },
          new Date(),
        );
        await recordAdmin(store, new Date(), cliActor(), 'key.created', record.id, {
          org: record.org,
          user: record.user,
          role: record.role,
          ...(record.expiresAt ? { expiresAt: record.expiresAt } : {}),
        });
        process.stdout.write(
          `created ${record.id} for ${record.user} in ${record.org} (${record.role}` +
            `${record.expiresAt ? `, expires ${record.expiresAt}` : ''}).\n` +
            'The key is shown once and stored only as a hash; give it to the user now:\n' +
            `${key}\n`,
        );
      } finally {
        await store.close();
      }
    });

  keys
    .command('list')
    .description('List keys (never the keys themselves)')
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('--org <org>', 'only this org')
    .addOption(formatOption(['table', 'json']))
    .addHelpText('after', '\nExample:\n  sluice keys list --org acme --format json\n')
    .action(async (o: { config: string; org?: string; format: string }) => {
      const { store } = await openConfiguredStore(o.config);
      try {
        const list = (await store.listKeys(o.org ? { org: o.org } : {})).map(
          ({ hash: _hash, ...rest }) => rest,
        );
        if (o.format === 'json') {
          process.stdout.write(JSON.stringify(list, null, 2) + '\n');
          return;
        }
        const rows = [
          ['ID', 'ORG', 'USER', 'ROLE', 'PREFIX', 'CREATED', 'EXPIRES', 'REVOKED'],
          ...list.map((k) => [
            k.id,
            k.org,
            k.user,
            k.role,
            `${k.prefix}…`,
            k.createdAt,
            k.expiresAt ?? '-',
            k.revokedAt ?? '-',
          ]),
        ];
        process.stdout.write(table(rows));
      } finally {
        await store.close();
      }
    });

  keys
    .command('revoke')
    .description('Revoke a key by its id')
    .argument('<id>', 'the key id (see keys list)')
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG)
    .addHelpText('after', '\nExample:\n  sluice keys revoke key_0123abcd\n')
    .action(async (id: string, o: { config: string }) => {
      const { store } = await openConfiguredStore(o.config);
      try {
        if (!(await store.revokeKey(id, new Date().toISOString()))) {
          throw new CliError(`no live key with id ${id} (see sluice keys list)`);
        }
        await recordAdmin(store, new Date(), cliActor(), 'key.revoked', id);
        process.stdout.write(`revoked ${id}\n`);
      } finally {
        await store.close();
      }
    });
}
