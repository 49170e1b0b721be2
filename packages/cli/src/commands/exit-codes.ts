// The exit codes of every herdless command (the README's table is this one).
export const EXIT_OK = 0;
/** A failure while running: an error the process could not recover from, or a lab run that did not complete. */
export const EXIT_FAILURE = 1;
/** A usage or configuration error: unknown command or flag, a value that breaks its rule. Nothing was started. */
export const EXIT_USAGE = 2;

export const EXIT_CODES_HELP = `Exit codes:
  ${EXIT_OK}  done (a long-running process stopped by SIGTERM or SIGINT after a clean shutdown)
  ${EXIT_FAILURE}  failed while running (the error is on stderr), or a lab run did not complete
  ${EXIT_USAGE}  usage or configuration error (unknown command or flag, invalid value); nothing started`;
