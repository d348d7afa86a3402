import { InvalidArgumentError, type Command } from 'commander';
import { TokenKeyRotator, type KeyRotationProgress } from '../twitch-auth/index.js';
import { CliError } from './cli.errors.js';
import { withTwitchAuth } from './cli-context.js';
import type { CliOutput } from './token-commands.js';

/**
 * Adds `rotate-key`: rewrites every stored token with TWITCH_AUTH_ENCRYPTION_KEY
 * (reading with it or TWITCH_AUTH_PREVIOUS_ENCRYPTION_KEYS), and encrypts plain
 * rows. Ctrl+C stops it between batches; run it again to finish.
 */
export function registerRotateKeyCommand(program: Command, output: CliOutput, signal: AbortSignal): void {
  program
    .command('rotate-key')
    .description('Re-encrypt every stored token with TWITCH_AUTH_ENCRYPTION_KEY (and encrypt plain ones); safe to interrupt and run again')
    .option('--batch-size <rows>', 'rows per batch (progress is printed after each)', parseBatchSize, 500)
    .addHelpText(
      'after',
      '\nSet TWITCH_AUTH_ENCRYPTION_KEY to the new key and TWITCH_AUTH_PREVIOUS_ENCRYPTION_KEYS to the old one(s), comma-separated.\nRunning apps may keep serving during the rotation if they are configured the same way. Once it reports\nevery row done, the old keys can be removed from TWITCH_AUTH_PREVIOUS_ENCRYPTION_KEYS.',
    )
    .action((options: { batchSize: number }) =>
      withTwitchAuth((app) => rotateKey(app.get(TokenKeyRotator), options.batchSize, signal, output)),
    );
}

async function rotateKey(rotator: TokenKeyRotator, batchSize: number, signal: AbortSignal, output: CliOutput): Promise<void> {
  const result = await rotator.rotate({ batchSize, signal, onProgress: (progress) => output.out(describe(progress)) });
  if (result.interrupted) {
    throw new CliError(
      `Interrupted after ${result.processed} of ${result.total} rows; the rows done so far are kept. Run "twitch-auth rotate-key" again to finish.`,
      130,
    );
  }
  if (result.failed.length > 0) {
    throw new CliError(
      `${result.failed.length} row(s) could not be decrypted with any configured key and were left untouched (users ${result.failed.slice(0, 20).join(', ')}${result.failed.length > 20 ? ', ...' : ''}). Keep the old keys until they are fixed: add the key they were stored with to TWITCH_AUTH_PREVIOUS_ENCRYPTION_KEYS and run again, or revoke them.`,
    );
  }
  output.out(
    `Done: every one of the ${result.total} rows is on the current key. The old keys can now be removed from TWITCH_AUTH_PREVIOUS_ENCRYPTION_KEYS.`,
  );
}

function describe(progress: KeyRotationProgress): string {
  const failed = progress.failed.length > 0 ? `, ${progress.failed.length} undecryptable` : '';
  return `${progress.processed}/${progress.total} rows: ${progress.rewritten} rewritten, ${progress.skipped} already current${failed}`;
}

function parseBatchSize(value: string): number {
  const rows = Number(value);
  if (!Number.isInteger(rows) || rows <= 0) throw new InvalidArgumentError('expected a positive whole number of rows.');
  return rows;
}
