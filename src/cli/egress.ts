/** `sluice egress log`: every connection attempt through the egress proxy. */
import type { Command } from 'commander';
import { DEFAULT_CONFIG, loadAdminConfig, openConfiguredStore } from './admin-config.js';
import { CliError } from './exit.js';
import { formatOption, table } from './format.js';
import { routeProfile } from '../control/route-profile.js';
import { flowsFor, orgEgress } from '../egress/flows.js';
import { presetsFor } from '../egress/policy.js';
import { parseLimit, parseSince } from './logs.js';
import type { EgressRecord } from '../store/types.js';

export function registerEgress(program: Command): void {
  const egress = program
    .command('egress')
    .description('The egress proxy (HTTPS_PROXY): what clients tried to reach');
  registerEgressLog(egress);
  registerEgressReport(egress);
  registerEgressPolicy(egress);
}

function registerEgressLog(egress: Command): void {
  egress
    .command('log')
    .description('Print connection records, newest first (with --format json: one JSON object per line)')
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('--org <org>', 'only this org')
    .option('--since <when>', 'a date or a duration such as 1h or 7d')
    .option('--limit <n>', 'at most this many records', '100')
    .addOption(formatOption(['table', 'json']))
    .addHelpText('after', '\nExample:\n  sluice egress log --org acme --since 1d --format json\n')
    .action(async (o: { config: string; org?: string; since?: string; limit: string; format: string }) => {
      const limit = parseLimit(o.limit);
      const since = o.since ? parseSince(o.since, new Date()) : undefined;
      const { store } = await openConfiguredStore(o.config);
      try {
        const rows = await store.queryEgress({
          ...(o.org ? { org: o.org } : {}),
          ...(since ? { since } : {}),
          limit,
        });
        if (o.format === 'json') {
          for (const r of rows) process.stdout.write(JSON.stringify(r) + '\n');
          return;
        }
        process.stdout.write(
          table([
            ['TIME', 'ORG', 'USER', 'HOST', 'PORT', 'METHOD', 'DECISION', 'RULE', 'UP', 'DOWN', 'MS'],
            ...rows.map((r) => [
              r.time,
              r.org ?? '-',
              r.user ?? '-',
              r.host,
              String(r.port),
              r.method,
              r.decision,
              r.rule,
              String(r.bytesUp),
              String(r.bytesDown),
              r.durationMs.toFixed(0),
            ]),
          ]),
        );
      } finally {
        await store.close();
      }
    });
}

/** Connection attempts grouped by host, port and decision, busiest first, each with its flows. */
export function summariseEgress(rows: readonly EgressRecord[]) {
  const groups = new Map<
    string,
    {
      host: string;
      port: number;
      decision: string;
      attempts: number;
      bytesUp: number;
      bytesDown: number;
      rules: Set<string>;
    }
  >();
  for (const r of rows) {
    const k = `${r.host}:${r.port}:${r.decision}`;
    const g = groups.get(k) ?? {
      host: r.host,
      port: r.port,
      decision: r.decision,
      attempts: 0,
      bytesUp: 0,
      bytesDown: 0,
      rules: new Set<string>(),
    };
    g.attempts++;
    g.bytesUp += r.bytesUp;
    g.bytesDown += r.bytesDown;
    g.rules.add(r.rule);
    groups.set(k, g);
  }
  return [...groups.values()]
    .sort((a, b) => b.attempts - a.attempts || a.host.localeCompare(b.host))
    .map((g) => ({
      ...g,
      rules: [...g.rules].sort(),
      presets: presetsFor(g.host, g.port),
      ...flowsFor(g.host, g.port),
    }));
}

function registerEgressReport(egress: Command): void {
  egress
    .command('report')
    .description(
      'Summarise connection attempts by host and decision, with the documented flow each host belongs to',
    )
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('--org <org>', 'only this org')
    .option('--since <when>', 'a date or a duration such as 1h or 7d (default: 7d)', '7d')
    .addOption(formatOption(['table', 'json']))
    .addHelpText('after', '\nExample:\n  sluice egress report --since 1d\n')
    .action(async (o: { config: string; org?: string; since: string; format: string }) => {
      const since = parseSince(o.since, new Date());
      const { store } = await openConfiguredStore(o.config);
      try {
        const rows = await store.queryEgress({ ...(o.org ? { org: o.org } : {}), since, limit: 1_000_000 });
        const report = summariseEgress(rows);
        if (o.format === 'json') {
          process.stdout.write(JSON.stringify({ since, hosts: report }, null, 2) + '\n');
          return;
        }
        process.stdout.write(
          table([
            ['HOST', 'PORT', 'DECISION', 'ATTEMPTS', 'UP', 'DOWN', 'RULES', 'FLOW', 'USED FOR'],
            ...report.map((g) => [
              g.host,
              String(g.port),
              g.decision,
              String(g.attempts),
              String(g.bytesUp),
              String(g.bytesDown),
              g.rules.join(' '),
              g.flows.join(' ') || '-',
              g.uses.join('; ') || '-',
            ]),
          ]),
        );
      } finally {
        await store.close();
      }
    });
}

function registerEgressPolicy(egress: Command): void {
  egress
    .command('policy')
    .description("Print each org's effective egress policy: every allow and deny rule and why it is there")
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('--org <org>', 'only this org')
    .option('--at <date>', 'evaluate the org profile at this date (default: today)')
    .addOption(formatOption(['table', 'json']))
    .addHelpText('after', '\nExample:\n  sluice egress policy --org acme\n')
    .action(async (o: { config: string; org?: string; at?: string; format: string }) => {
      const config = await loadAdminConfig(o.config);
      if (o.org && !config.orgs[o.org])
        throw new CliError(`no org "${o.org}" in ${o.config} (have: ${Object.keys(config.orgs).join(', ')})`);
      const at = o.at ?? new Date().toISOString().slice(0, 10);
      const orgs = Object.entries(config.orgs)
        .filter(([name]) => !o.org || name === o.org)
        .map(([name, org]) => ({
          org: name,
          profile: org.profile ?? null,
          ...orgEgress(org, at, routeProfile(config, name, org).profile),
        }));
      if (o.format === 'json') {
        process.stdout.write(JSON.stringify({ at, orgs }, null, 2) + '\n');
        return;
      }
      process.stdout.write(
        table([
          ['ORG', 'LIST', 'RULE', 'WHY'],
          ...orgs.flatMap((g) => g.rules.map((r) => [g.org, r.list, r.rule, r.why])),
        ]) + 'Deny wins over allow; a host no rule allows is denied.\n',
      );
    });
}
