/** The `sluice` command line: thin verbs that parse arguments, call the parts, and print. */
import { Command, CommanderError } from 'commander';
import { CliError, EXIT } from './exit.js';
import { registerVerbs } from './verbs.js';

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('sluice')
    .description('Where your code goes when you use Claude Code, and a gateway that keeps it there.')
    .version('0.1.0')
    .exitOverride()
    // A verb's options belong to it (`logs show <id> --format json` is show's format, not logs').
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
  registerVerbs(program);
  program.addHelpText(
    'after',
    `
Examples:
  sluice init                                   write a commented starter sluice.yaml
  ANTHROPIC_API_KEY=sk-ant-... sluice serve     run the gateway; the first run prints a developer key
  sluice keys create --org default --user dev@acme.example
  sluice logs --since 1d --format json          audit records of the last day
  sluice usage --by model                       spend by model
  sluice scan .                                 secrets and personal data in this folder
  sluice explain                                where this machine's Claude Code sends data

Every verb has --help with examples. Exit codes: 0 clean, 1 findings, 2 usage or runtime error.
Docs: docs/cli.md
`,
  );
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
      if (err.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    if (err instanceof CliError) {
      process.stderr.write(`sluice: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`sluice: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.usage;
  }
}

const invokedDirectly = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (invokedDirectly) {
  process.exitCode = await main(process.argv.slice(2));
}
