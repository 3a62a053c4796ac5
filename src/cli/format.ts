/** Output format choice shared by the verbs (`--format table|json|...`). */
import { Option } from 'commander';

/** A `--format` option limited to `choices`, defaulting to the first. */
export function formatOption(choices: readonly string[], description = 'output format'): Option {
  return new Option('--format <format>', description).choices([...choices]).default(choices[0]);
}

/** True when progress may be drawn (stderr is a terminal and CI is not set). */
export function canShowProgress(stream: NodeJS.WriteStream = process.stderr): boolean {
  return Boolean(stream.isTTY) && !process.env.CI;
}

/** Left-aligned columns separated by two spaces. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_c, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
