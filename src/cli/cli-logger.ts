import type { LoggerService } from '@nestjs/common';

/**
 * Nest's logger for the CLI: silent, because every failure reaches the user
 * once, as the error the command throws. With `DEBUG` set it prints every
 * line (to stderr) for troubleshooting.
 */
export class CliLogger implements LoggerService {
  constructor(private readonly verbose_: boolean) {}

  /** Dropped unless DEBUG is set. */
  log(message: unknown, ...rest: unknown[]): void {
    this.write('log', message, rest);
  }
  /** Dropped unless DEBUG is set. */
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  /** Dropped unless DEBUG is set. */
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  /** Dropped unless DEBUG is set. */
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  /** Dropped unless DEBUG is set. */
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('verbose', message, rest);
  }

  private write(level: string, message: unknown, rest: unknown[]): void {
    if (!this.verbose_) return;
    const parts = [message, ...rest].map((part) => (part instanceof Error ? (part.stack ?? part.message) : String(part)));
    process.stderr.write(`[${level}] ${parts.join(' ')}\n`);
  }
}
