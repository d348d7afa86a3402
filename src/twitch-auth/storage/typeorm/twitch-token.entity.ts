import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { ValueTransformer } from 'typeorm';
import type { TokenStatus } from '../token-repository.interface.js';

/**
 * Instants are stored as bigint milliseconds. Postgres hands bigints back as
 * strings (they may exceed 2^53); ours never do, so they become numbers again.
 */
const millis: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? value : Number(value)),
};

/** A string list kept as JSON text: lossless for any string, readable in a SQL shell. */
const stringList: ValueTransformer = {
  to: (value: string[] | undefined) => (value === undefined ? undefined : JSON.stringify(value)),
  from: (value: string | null) => (value ? (JSON.parse(value) as string[]) : []),
};

/**
 * One user's token row in `twitch_tokens`. Add it (with
 * `TwitchTokenIntentEntity`) to your DataSource through
 * `twitchAuthEntities`; `TypeOrmTokenRepository` is the only writer.
 */
@Entity({ name: 'twitch_tokens' })
@Index('IDX_twitch_tokens_refresh_due', ['status', 'expiresAt', 'userId'])
@Index('IDX_twitch_tokens_validation_due', ['status', 'lastValidatedAt', 'userId'])
export class TwitchTokenEntity {
  /** Twitch user id; one token per user. */
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 64 })
  userId!: string;

  /** Login name as Twitch last reported it. */
  @Column({ name: 'login', type: 'varchar', length: 64, nullable: true })
  login!: string | null;

  /** Opaque to storage: ciphertext when an encryption key is configured. */
  @Column({ name: 'access_token', type: 'text' })
  accessToken!: string;

  /** Opaque like the access token; null for tokens that cannot be refreshed. */
  @Column({ name: 'refresh_token', type: 'text', nullable: true })
  refreshToken!: string | null;

  /** Granted scopes, JSON text. */
  @Column({ name: 'scopes', type: 'text', transformer: stringList })
  scopes!: string[];

  /**
   * Intents this user serves, JSON text. A copy kept in the same transaction
   * as `twitch_token_intents` (which enforces uniqueness) so that every read
   * is one single-table statement.
   */
  @Column({ name: 'intents', type: 'text', transformer: stringList })
  intents!: string[];

  /** Access-token expiry in ms; null when Twitch said it never expires. */
  @Column({ name: 'expires_at', type: 'bigint', nullable: true, transformer: millis })
  expiresAt!: number | null;

  /** When the access token was granted or refreshed, ms. */
  @Column({ name: 'obtained_at', type: 'bigint', transformer: millis })
  obtainedAt!: number;

  /** Last successful /oauth2/validate, ms; 0 = never, so the validation index has no NULLs to skip. */
  @Column({ name: 'last_validated_at', type: 'bigint', default: 0, transformer: millis })
  lastValidatedAt!: number;

  /** `valid` or `reauth_required`; leading column of both due-query indexes. */
  @Column({ name: 'status', type: 'varchar', length: 32 })
  status!: TokenStatus;

  /** Maintenance backs off until this instant, ms; 0 = not backed off. */
  @Column({ name: 'retry_at', type: 'bigint', default: 0, transformer: millis })
  retryAt!: number;

  /** Transient failures in a row. */
  @Column({ name: 'failure_count', type: 'integer', default: 0 })
  failureCount!: number;

  /** Bumped by every write; the compare-and-set operand. */
  @Column({ name: 'version', type: 'integer' })
  version!: number;

  /** Holder of the per-user lease, or null. */
  @Column({ name: 'lease_owner', type: 'varchar', length: 255, nullable: true })
  leaseOwner!: string | null;

  /** When the lease lapses, ms. */
  @Column({ name: 'lease_expires_at', type: 'bigint', nullable: true, transformer: millis })
  leaseExpiresAt!: number | null;
}
