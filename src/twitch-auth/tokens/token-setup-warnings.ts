import type { Logger } from '@nestjs/common';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import { InMemoryTokenRepository } from '../storage/in-memory-token.repository.js';
import type { TokenRepository } from '../storage/token-repository.interface.js';

/**
 * Warns at boot about a setup that works but loses something the user
 * likely wants: events nobody receives, tokens lost on restart, plain
 * stored tokens served although encryption is on.
 */
export function warnAboutSetup(
  options: Pick<ResolvedTwitchAuthOptions, 'acceptPlaintextTokens' | 'encryptionKey'>,
  repository: TokenRepository,
  eventsEnabled: boolean,
  logger: Pick<Logger, 'warn'>,
): void {
  if (!eventsEnabled) {
    logger.warn('EventEmitterModule.forRoot() is not imported: twitch.* events will not be delivered.');
  }
  if (repository instanceof InMemoryTokenRepository) {
    logger.warn("Tokens are kept in memory and lost on restart: set storage: 'typeorm' (or your own TokenRepository) to keep them.");
  }
  if (options.acceptPlaintextTokens && options.encryptionKey) {
    logger.warn(
      'acceptPlaintextTokens is set: plain stored tokens are served although encryptionKey is set. Run "twitch-auth rotate-key" to encrypt every row, then remove the option.',
    );
  }
}
