/** `sluice managed-settings`: the managed-settings.json that makes Claude Code follow an organization policy. */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { loadPolicy, managedSettingsFor, PolicyFileError } from '../audit/policy-file.js';
import type { VerbIo } from './audit.js';
import { CliError, EXIT } from './exit.js';
import { formatOption } from './format.js';

export function registerManagedSettings(program: Command, io: VerbIo = {}): void {
  program
    .command('managed-settings')
    .description(
      'Write the managed-settings.json that makes Claude Code clients follow an organization policy.',
    )
    .requiredOption('--policy <file>', "the organization's rules (YAML or JSON)")
    .option(
      '--out <file>',
      'write here (for example /etc/claude-code/managed-settings.json) instead of printing',
    )
    .addOption(formatOption(['json']))
    .addHelpText(
      'after',
      `
Plans and ZDR cannot be set from a settings file; what the file cannot enforce is listed on stderr.
Check the result with \`sluice audit --policy FILE\` on a machine that has it.

Examples:
  $ sluice managed-settings --policy org-policy.yaml
  $ sudo sluice managed-settings --policy org-policy.yaml --out /etc/claude-code/managed-settings.json`,
    )
    .action(async (flags: { policy: string; out?: string }) => {
      const out = io.stdout ?? ((s: string) => void process.stdout.write(s));
      const err = io.stderr ?? ((s: string) => void process.stderr.write(s));
      let policy;
      try {
        policy = await loadPolicy(flags.policy);
      } catch (e) {
        if (e instanceof PolicyFileError) throw new CliError(e.message, EXIT.usage);
        throw e;
      }
      const { settings, notes } = managedSettingsFor(policy);
      const text = JSON.stringify(settings, null, 2) + '\n';
      if (flags.out) {
        await mkdir(dirname(flags.out), { recursive: true });
        const temp = `${flags.out}.${randomBytes(6).toString('hex')}.tmp`;
        await writeFile(temp, text, { mode: 0o644 });
        await rename(temp, flags.out);
        err(`wrote ${flags.out}\n`);
      } else out(text);
      for (const note of notes) err(`note: ${note}\n`);
      process.exitCode = EXIT.ok;
    });
}
