import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TwitchTokenEntity } from './twitch-token.entity.js';

/**
 * One intent (a named role such as `chat`) and the user serving it. The
 * primary key on `intent` is what makes "an intent belongs to at most one
 * user" hold even when two processes assign it at the same moment.
 */
@Entity({ name: 'twitch_token_intents' })
@Index('IDX_twitch_token_intents_user', ['userId'])
export class TwitchTokenIntentEntity {
  /** The intent name. */
  @PrimaryColumn({ name: 'intent', type: 'varchar', length: 255 })
  intent!: string;

  /** The user serving it; the row goes when the user's token is deleted. */
  @Column({ name: 'user_id', type: 'varchar', length: 64 })
  userId!: string;

  /** Relation behind the foreign key; never loaded by the repository. */
  @ManyToOne(() => TwitchTokenEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', referencedColumnName: 'userId', foreignKeyConstraintName: 'FK_twitch_token_intents_user' })
  token?: TwitchTokenEntity;
}
