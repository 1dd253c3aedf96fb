// The logger an asset receives. Lines go to the run's event stream (and so to
// the store, the CLI and the UI), never straight to stdout.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** Every level, as the store checks a level it reads back. */
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface Logger {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

export function loggerFrom(write: (level: LogLevel, message: string, data?: Record<string, unknown>) => void): Logger {
  return {
    debug: (m, d) => write('debug', m, d),
    info: (m, d) => write('info', m, d),
    warn: (m, d) => write('warn', m, d),
    error: (m, d) => write('error', m, d),
  };
}
