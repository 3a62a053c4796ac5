/** `sluice keys create|list|revoke`: gateway keys, shown once and stored hashed. */
import { Option, type Command } from 'commander';
import { recordAdmin } from '../control/admin-log.js';
import { cliActor } from './actor.js';
import { createKey } from '../control/keys.js';
import { GROUP_NAME, type SluiceConfig } from '../control/config.js';
import type { Role } from '../store/types.js';
import { DEFAULT_CONFIG, openConfiguredStore } from './admin-config.js';
import { CliError } from './exit.js';
import { parseExpires } from './expires.js';
import { createKeysFromCsv } from './keys-bulk.js';

export { parseExpires } from './expires.js';
import { formatOption, table } from './format.js';

/** `--group`, repeatable: collects names, each shaped like a group name. */
export function collectGroup(value: string, previous: string[]): string[] {
  if (!GROUP_NAME.test(value))
    throw new CliError(`--group: "${value}" is not a group name (letters, digits, ".", "_" and "-")`);
  return [...previous, value];
}

/** Every group must be declared under the org, so a typo never leaves a user outside its budget. */
export function checkGroups(
  config: SluiceConfig,
  org: string,
  groups: readonly string[],
  file: string,
): void {
  const declared = config.orgs[org]?.groups ?? {};
  const unknown = groups.filter((g) => !Object.hasOwn(declared, g));
  if (unknown.length)
    throw new CliError(
      `no group ${unknown.map((g) => `"${g}"`).join(', ')} in orgs.${org}.groups of ${file} (groups: ${Object.keys(declared).join(', ') || 'none'})`,
    );
}

/** `keys create --from`: the per-user flags do not mix with a file, which says it all per row. */
async function createFromCsv(o: {
  config: string;
  org?: string;
  user?: string;
  expires?: string;
  group: string[];
  from?: string;
  out?: string;
  format: string;
}): Promise<void> {
  if (o.from === undefined) throw new CliError('--out goes with --from users.csv');
  const mixed = [
    o.org !== undefined && '--org',
    o.user !== undefined && '--user',
    o.expires !== undefined && '--expires',
    o.group.length > 0 && '--group',
  ].filter(Boolean);
  if (mixed.length)
    throw new CliError(`--from takes every user's settings from the file; leave out ${mixed.join(', ')}`);
  const { config, store } = await openConfiguredStore(o.config);
  try {
    await createKeysFromCsv(
      store,
      config,
      { from: o.from, ...(o.out ? { out: o.out } : {}), format: o.format },
      new Date(),
    );
  } finally {
    await store.close();
  }
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('Create, list and revoke gateway keys');
  registerKeysCreate(keys);
  registerKeysList(keys);
  registerKeysRevoke(keys);
}

function registerKeysCreate(keys: Command): void {
  keys
    .command('create')
    .description('Create a key for a user of an org; prints the key once, as the last line')
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('--org <org>', 'organization (declared under orgs: in the config); required without --from')
    .option('--user <email>', 'the person the key belongs to; required without --from')
    .addOption(new Option('--role <role>', 'role').choices(['member', 'admin', 'auditor']).default('member'))
    .option('--expires <when>', 'the key stops working after a duration (30m, 8h, 7d) or at a date')
    .option(
      '--group <name>',
      'a group of the org the user belongs to (repeatable; declared under orgs.<org>.groups)',
      collectGroup,
      [],
    )
    .option('--from <csv>', 'one key per row of a CSV file: email,org,role,groups,expires (all or none)')
    .option('--out <file>', 'with --from: write the keys to this new file (mode 0600) instead of stdout')
    .addOption(formatOption(['table', 'json'], 'output format (with --from)'))
    .addHelpText(
      'after',
      '\nExample:\n  sluice keys create --org acme --user dev@acme.example\n  sluice keys create --org acme --user ci@acme.example --expires 8h\n  sluice keys create --org acme --user temp@acme.example --group contractors\n  sluice keys create --from users.csv --out keys.csv\n',
    )
    .action(
      async (o: {
        config: string;
        org: string;
        user: string;
        role: Role;
        expires?: string;
        group: string[];
        from?: string;
        out?: string;
        format: string;
      }) => {
        if (o.from !== undefined || o.out !== undefined) return createFromCsv(o);
        if (o.org === undefined || o.user === undefined)
          throw new CliError('keys create needs --org and --user, or --from users.csv');
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
          checkGroups(config, o.org, o.group, o.config);
          const { key, record } = await createKey(
            store,
            { org: o.org, user: o.user, role: o.role, ...(expiresAt ? { expiresAt } : {}), groups: o.group },
            new Date(),
          );
          await recordAdmin(store, new Date(), cliActor(), 'key.created', record.id, {
            org: record.org,
            user: record.user,
            role: record.role,
            ...(record.expiresAt ? { expiresAt: record.expiresAt } : {}),
            ...(record.groups ? { groups: record.groups } : {}),
          });
          process.stdout.write(
            `created ${record.id} for ${record.user} in ${record.org} (${record.role}` +
              `${record.expiresAt ? `, expires ${record.expiresAt}` : ''}` +
              `${record.groups ? `, groups ${record.groups.join(', ')}` : ''}).\n` +
              'The key is shown once and stored only as a hash; give it to the user now:\n' +
              `${key}\n`,
          );
        } finally {
          await store.close();
        }
      },
    );
}

function registerKeysList(keys: Command): void {
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
          ['ID', 'ORG', 'USER', 'ROLE', 'GROUPS', 'PREFIX', 'CREATED', 'EXPIRES', 'REVOKED'],
          ...list.map((k) => [
            k.id,
            k.org,
            k.user,
            k.role,
            k.groups?.join(',') ?? '-',
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
}

function registerKeysRevoke(keys: Command): void {
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
