/** A failure meant for the person at the terminal: one line, and the exit code it deserves. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Exit code for input the user must fix (a bad scenario, a bad flag), as distinct from a failure at run time. */
export const EXIT_BAD_INPUT = 2;
