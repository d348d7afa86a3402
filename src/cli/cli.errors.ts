/**
 * A failure the CLI explains in one line and maps to an exit code; the
 * message is what the user reads, so it says what to do next.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
