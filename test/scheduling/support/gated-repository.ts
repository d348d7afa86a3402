import { InMemoryTokenRepository, type StoredToken } from '../../../src/twitch-auth/index.js';

/** An in-memory repository whose due-queries can be held at a gate, to make a tick overrun on demand. */
export class GatedRepository extends InMemoryTokenRepository {
  gate: Promise<void> | null = null;
  refreshQueries = 0;
  validationQueries = 0;
  override async listDueForRefresh(expiringBefore: number, now: number, limit: number): Promise<StoredToken[]> {
    this.refreshQueries += 1;
    if (this.gate) await this.gate;
    return super.listDueForRefresh(expiringBefore, now, limit);
  }
  override async listDueForValidation(validatedBefore: number, now: number, limit: number): Promise<StoredToken[]> {
    this.validationQueries += 1;
    if (this.gate) await this.gate;
    return super.listDueForValidation(validatedBefore, now, limit);
  }
}

/** A gated repository, closed until `open()`. */
export function gated(): { repository: GatedRepository; open: () => void } {
  const repository = new GatedRepository();
  let open!: () => void;
  repository.gate = new Promise<void>((resolve) => (open = resolve));
  return { repository, open: () => ((repository.gate = null), open()) };
}
