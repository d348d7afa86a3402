import type { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { TwitchAuthEvent, type TokenRefreshFailedEvent, type TokenRevokedEvent } from '../twitch-auth.events.js';
import type { DeviceCode, TokenGrant } from '../twitch/twitch.types.js';
import type { TokenInfo } from './access-token.js';
import { describeError, isTransient } from './token-failures.js';
import type { PlainToken } from './token-store.js';

/** What the `bot` option's account uses: narrow functions, never the service that owns it. */
export interface BotAccountDeps {
  /** The stored token serving an intent, decrypted, or null. */
  findByIntent(intent: string): Promise<PlainToken | null>;
  startDeviceFlow(scopes: string[]): Promise<DeviceCode>;
  /** Polls until approved; rejects with the signal's reason once aborted. */
  waitForGrant(device: DeviceCode, signal: AbortSignal): Promise<TokenGrant>;
  /** Validates and stores a granted token under `intents`. */
  storeGrant(grant: TokenGrant, intents: string[]): Promise<TokenInfo>;
  addIntents(userId: string, intents: string[]): Promise<TokenInfo>;
  /** Called once per grant that made the bot ready (emits `twitch.bot.ready`). */
  onReady(info: TokenInfo): void;
  logger: Pick<Logger, 'log' | 'warn' | 'error'>;
}

/** The `bot` option as the account needs it. */
export interface BotAccountConfig {
  intent: string;
  scopes: string[];
  /** The built-in sign-in link for these scopes, or null when the OAuth routes are not mounted. */
  oauthLink: string | null;
  /**
   * Device codes shown per episode (boot, or a lost grant) before giving up
   * until the next lost grant or restart. Twitch's codes live 30 minutes, so
   * the default 6 prompts for about three hours.
   */
  maxPrompts?: number;
  /** Backoff after a transient failure to start a device flow: first, doubled, capped. */
  firstRetryMs?: number;
  maxRetryMs?: number;
}

/**
 * The `bot` option: makes sure a valid token holds the intent with every
 * scope. When none does, it logs one prompt per device code and waits for the
 * grant in the background (boot never waits); an expired or refused code is
 * replaced by a new one, at most `maxPrompts` times. A token stored meanwhile
 * through the OAuth routes with every scope also satisfies it. A lost grant
 * (`onGrantLost`) starts it again. Never throws into the application.
 */
export class BotAccount {
  private state: 'idle' | 'prompting' | 'ready' | 'stopped' = 'idle';
  private readyUserId: string | null = null;
  private episode: AbortController | null = null;
  private readonly shutdown = new AbortController();

  constructor(
    private readonly deps: BotAccountDeps,
    private readonly config: BotAccountConfig,
  ) {}

  /** The boot check: ready at once when a stored valid token fits, else starts prompting in the background. */
  async start(): Promise<void> {
    await this.check();
  }

  /** A token of `userId` lost its grant: prompts again when it was the bot's. */
  onGrantLost(userId: string): void {
    if (this.state !== 'ready' || this.readyUserId !== userId) return;
    // One loss is announced twice (revoked, then refresh_failed): only the first one checks.
    this.readyUserId = null;
    void this.check();
  }

  /** Any token was stored: one with every scope ends a prompt in progress (a sign-in through the OAuth routes). */
  async onTokenStored(info: TokenInfo): Promise<void> {
    if (this.state !== 'prompting' || info.status !== 'valid' || !this.fits(info.scopes)) return;
    const held = info.intents.includes(this.config.intent) ? info : await this.deps.addIntents(info.userId, [this.config.intent]);
    this.ready(held);
  }

  /** Ends the background wait; no timer or poll survives this. */
  stop(): void {
    this.state = 'stopped';
    this.shutdown.abort();
  }

  private async check(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'prompting') return;
    const row = await this.deps.findByIntent(this.config.intent).catch((error: unknown) => {
      this.deps.logger.warn(`Bot account: the stored token could not be read (${describeError(error)}); asking for a new grant.`);
      return null;
    });
    if (row && row.status === 'valid' && this.fits(row.scopes)) {
      this.state = 'ready';
      this.readyUserId = row.userId;
      this.deps.logger.log(`Bot account for intent "${this.config.intent}": the stored token of user ${row.userId} holds every scope.`);
      return;
    }
    this.state = 'prompting';
    this.readyUserId = null;
    void this.prompt();
  }

  private async prompt(): Promise<void> {
    const { logger } = this.deps;
    const { intent, scopes } = this.config;
    const maxPrompts = this.config.maxPrompts ?? 6;
    this.episode = new AbortController();
    const signal = AbortSignal.any([this.shutdown.signal, this.episode.signal]);
    let prompts = 0;
    let retryMs = this.config.firstRetryMs ?? 1_000;
    while (!signal.aborted) {
      let device: DeviceCode;
      try {
        device = await this.deps.startDeviceFlow(scopes);
        if (signal.aborted) return;
      } catch (error) {
        if (signal.aborted) return;
        if (!isTransient(error)) return this.giveUp(`a device code could not be started (${describeError(error)})`);
        logger.warn(`Bot account for intent "${intent}": Twitch did not answer (${describeError(error)}); retrying in ${retryMs} ms.`);
        await sleep(retryMs, undefined, { signal, ref: false }).catch(() => undefined);
        retryMs = Math.min(retryMs * 2, this.config.maxRetryMs ?? 5 * 60_000);
        continue;
      }
      prompts += 1;
      logger.log(this.promptLine(device));
      try {
        const info = await this.deps.storeGrant(await this.deps.waitForGrant(device, signal), [intent]);
        return this.ready(info);
      } catch (error) {
        if (signal.aborted) return;
        if (prompts >= maxPrompts) return this.giveUp(`${prompts} codes went unused (last: ${describeError(error)})`);
        logger.warn(`Bot account for intent "${intent}": ${describeError(error)}; a new code follows.`);
      }
    }
  }

  /** The one line the operator reads. The user code is meant for them; the device code never appears. */
  private promptLine(device: DeviceCode): string {
    const { intent, scopes, oauthLink } = this.config;
    const alternative = oauthLink ? `, or sign in at ${oauthLink}` : '';
    return `Bot account for intent "${intent}": open ${device.verificationUri} and enter code ${device.userCode}${alternative} (scopes: ${scopes.join(' ')})`;
  }

  private ready(info: TokenInfo): void {
    if (this.state !== 'prompting') return;
    this.state = 'ready';
    this.readyUserId = info.userId;
    this.episode?.abort();
    this.deps.logger.log(
      `Bot account for intent "${this.config.intent}": user ${info.userId} (${info.login ?? 'unknown login'}) is ready.`,
    );
    this.deps.onReady(info);
  }

  private giveUp(why: string): void {
    this.state = 'idle';
    this.deps.logger.error(`Bot account for intent "${this.config.intent}": no grant, ${why}. Restart the application to be asked again.`);
  }

  private fits(granted: readonly string[]): boolean {
    return this.config.scopes.every((scope) => granted.includes(scope));
  }
}

/** The built-in sign-in link for the bot's scopes, when the OAuth routes are mounted and can exchange a code. */
export function botOAuthLink(options: {
  redirectUri: string;
  clientSecret: string | null;
  oauth: { enabled: boolean; path: string };
  bot: { scopeSet: string | null } | null;
}): string | null {
  if (!options.bot?.scopeSet || !options.oauth.enabled || options.clientSecret === null) return null;
  const url = new URL(options.oauth.path, options.redirectUri);
  url.searchParams.set('set', options.bot.scopeSet);
  return url.toString();
}

/**
 * Feeds the module's own grant-loss events to the account: `twitch.token.revoked`
 * and a permanent `twitch.token.refresh_failed` are emitted after the row was
 * marked `reauth_required`, so the account's re-check reads the new status.
 */
export function listenForLostGrants(
  events: { subscribe(name: string, listener: (payload: unknown) => void): unknown },
  account: Pick<BotAccount, 'onGrantLost'>,
): void {
  events.subscribe(TwitchAuthEvent.TokenRevoked, (event) => account.onGrantLost((event as TokenRevokedEvent).userId));
  events.subscribe(TwitchAuthEvent.TokenRefreshFailed, (event) => {
    const failure = event as TokenRefreshFailedEvent;
    if (failure.permanent) account.onGrantLost(failure.userId);
  });
}
