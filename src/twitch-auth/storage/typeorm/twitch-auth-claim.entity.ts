import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { ValueTransformer } from 'typeorm';

/** Postgres returns bigint as a string; instants fit a number. */
const epochMillis: ValueTransformer = {
  to: (value: number) => value,
  from: (value: string | number) => Number(value),
};

/** One claimed one-time key (OAuth state nonce, EventSub message id), kept until it expires. */
@Entity({ name: 'twitch_auth_claims' })
export class TwitchAuthClaimEntity {
  /** `<namespace>:<key>`. */
  @PrimaryColumn({ name: 'claim_key', type: 'varchar', length: 255 })
  claimKey!: string;

  @Index('IDX_twitch_auth_claims_expires_at')
  @Column({ name: 'expires_at', type: 'bigint', transformer: epochMillis })
  expiresAt!: number;
}
