/** An error the user can fix: printed as one sentence, exit code 2, no stack trace. */
export class CliError extends Error {}
