import { pino, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';

export type Logger = PinoLogger;

export function isDebug(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes|on)$/i.test(env.DEBUG ?? '');
}

/**
 * JSON lines when stdout is not a terminal (log shippers, CI, docker), readable colour on a terminal.
 * DEBUG=true turns on debug output, as in the seed; LOG_LEVEL sets any level explicitly.
 */
export function createLogger(options: { name?: string; env?: NodeJS.ProcessEnv; pretty?: boolean; destination?: 1 | 2 } = {}): Logger {
  const env = options.env ?? process.env;
  const level = env.LOG_LEVEL ?? (isDebug(env) ? 'debug' : 'info');
  // 2 (stderr) for commands whose stdout carries data (`hea run --json | jq`).
  const destination = options.destination ?? 1;
  const usePretty = options.pretty ?? Boolean((destination === 2 ? process.stderr : process.stdout).isTTY);
  const base = { name: options.name ?? 'hea' };
  if (usePretty) {
    // sync: a pretty stream in a worker thread would lose the last lines when the CLI exits.
    return pino({ level, base }, pretty({ sync: true, colorize: true, destination, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' }));
  }
  return pino({ level, base, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: destination, sync: true }));
}

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The Temporal Runtime's logger interface on top of pino, so SDK and core logs share one stream. */
export class TemporalPinoLogger implements TemporalLogger {
  constructor(private readonly logger: Logger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.logger[LEVELS[level] ?? 'info']({ ...(meta ?? {}) }, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}
