import { Inject, Injectable, Logger } from '@nestjs/common';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import { ClaimStore } from '../storage/claim-store.interface.js';
import { ConduitShardStore } from '../storage/conduit-shard-store.interface.js';
import { TwitchHelixClient } from '../twitch/helix.client.js';
import { EventSubConduitHelix } from './eventsub-conduit.helix.js';
import { EventSubConduitNotConfiguredError, EventSubConduitNotFoundError } from './eventsub-conduit.errors.js';
import { EventSubConduitError } from './eventsub-conduit.errors.js';

/** `ClaimStore` namespace of the guard that lets one instance create a conduit. */
const CREATE_GUARD_NAMESPACE = 'eventsub-conduit-create';
/** How long the creating instance has to store the new id before another may try. */
const CREATE_GUARD_MS = 30_000;
/** How often an instance that lost the creation race looks for the winner's id. */
const POLL_MS = 250;

/**
 * Finds the app's conduit once per process, so every instance uses the same
 * one: the id in `eventSub.conduit.id`; else the id stored under
 * `eventSub.conduit.name` (checked to still exist at Twitch); else the app's
 * only existing conduit; else a new one. Creating is guarded by a
 * `ClaimStore` key so two instances booting together do not create two
 * conduits: the loser waits for the winner's stored id.
 */
@Injectable()
export class EventSubConduitLocator {
  /** The conduit calls, shared with the shard coordinator. */
  readonly helix: EventSubConduitHelix;
  private readonly logger = new Logger('TwitchAuth');
  private found: Promise<string> | null = null;

  constructor(
    helix: TwitchHelixClient,
    @Inject(ConduitShardStore) private readonly store: ConduitShardStore,
    @Inject(ClaimStore) private readonly claims: ClaimStore,
    @Inject(TWITCH_AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedTwitchAuthOptions,
  ) {
    this.helix = new EventSubConduitHelix(helix);
  }

  /** The conduit id, found or created on first use (single flight); a failed search is retried by the next call. */
  conduitId(): Promise<string> {
    this.found ??= this.locate().catch((error: unknown) => {
      this.found = null;
      throw error;
    });
    return this.found;
  }

  /** Forgets the id found, e.g. after Twitch deleted the conduit; the next `conduitId()` looks again. */
  forget(): void {
    this.found = null;
  }

  private async locate(): Promise<string> {
    const conduit = this.options.eventSubConduit;
    if (!conduit) throw new EventSubConduitNotConfiguredError();
    const existing = await this.helix.listConduits();
    if (conduit.id !== null) {
      if (!existing.some((c) => c.id === conduit.id)) throw new EventSubConduitNotFoundError(conduit.id);
      return conduit.id;
    }
    const deadline = Date.now() + CREATE_GUARD_MS * 2;
    for (;;) {
      const stored = await this.store.findConduitId(conduit.name);
      if (stored !== null && existing.some((c) => c.id === stored)) return stored;
      if (await this.claims.claim(CREATE_GUARD_NAMESPACE, `${conduit.name}:${stored ?? 'none'}`, Date.now() + CREATE_GUARD_MS)) {
        return this.adoptOrCreate(conduit.name, stored, existing);
      }
      // Another instance is creating it: its id appears in the store shortly.
      if (Date.now() > deadline) {
        throw new EventSubConduitError(
          `Another instance started creating the conduit "${conduit.name}" but stored no id within ${(CREATE_GUARD_MS * 2) / 1000} s; restart to try again.`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      existing.splice(0, existing.length, ...(await this.helix.listConduits()));
    }
  }

  /** Adopts the app's only conduit when none is stored yet (the first deploy of an app that made one), else creates one. */
  private async adoptOrCreate(name: string, stored: string | null, existing: { id: string; shardCount: number }[]): Promise<string> {
    const adopted = stored === null && existing.length === 1 ? existing[0]!.id : null;
    const id = adopted ?? (await this.helix.createConduit(1)).id;
    await this.store.saveConduitId(name, id);
    this.logger.log(adopted ? `Using the app's existing EventSub conduit ${id}.` : `Created EventSub conduit ${id}.`);
    return id;
  }
}
