import { ConsoleLogger, Logger, type LoggerService } from '@nestjs/common';

/** Every line Nest loggers wrote during the current test file. */
export const capturedLogs: string[] = [];

class CapturingLogger extends ConsoleLogger implements LoggerService {
  private record(level: string, message: unknown, rest: unknown[]): void {
    const parts = [message, ...rest].map((part) =>
      part instanceof Error ? `${part.message} ${part.stack ?? ''}` : typeof part === 'string' ? part : JSON.stringify(part),
    );
    capturedLogs.push(`${level} ${parts.join(' ')}`);
  }
  override log(message: unknown, ...rest: unknown[]): void {
    this.record('log', message, rest);
  }
  override error(message: unknown, ...rest: unknown[]): void {
    this.record('error', message, rest);
    if (process.env.TEST_LOGS) super.error(message as string, ...(rest as string[]));
  }
  override warn(message: unknown, ...rest: unknown[]): void {
    this.record('warn', message, rest);
    if (process.env.TEST_LOGS) super.warn(message as string, ...(rest as string[]));
  }
  override debug(message: unknown, ...rest: unknown[]): void {
    this.record('debug', message, rest);
  }
  override verbose(message: unknown, ...rest: unknown[]): void {
    this.record('verbose', message, rest);
  }
}

/** The logger test apps use (`createNestApplication({ logger })`); it captures and stays quiet. */
export const captureLogger = new CapturingLogger();
Logger.overrideLogger(captureLogger);
