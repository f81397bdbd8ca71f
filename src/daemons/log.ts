/** A daemon's logger: one line per event, `time level component message`. */
export type Logger = (message: string) => void;

/** A logger writing to stderr with a component tag (silent when `quiet`). */
export function consoleLogger(component: string, quiet = false): Logger {
  return (message) => {
    if (!quiet) process.stderr.write(`${new Date().toISOString()} ${component} ${message}\n`);
  };
}
