import { InMemoryTokenRepository } from '../../src/twitch-auth/storage/in-memory-token.repository.js';
import { describeTokenRepositoryContract } from './token-repository.contract.js';

describeTokenRepositoryContract('InMemoryTokenRepository', async () => ({
  repository: new InMemoryTokenRepository(),
  teardown: async () => undefined,
}));
