/** Exit codes shared by every verb: 0 clean, 1 findings at or above the threshold, 2 usage or runtime error. */
export const EXIT = { ok: 0, findings: 1, usage: 2 } as const;

/** An error the CLI prints as one line (`sluice: <message>`) before exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
