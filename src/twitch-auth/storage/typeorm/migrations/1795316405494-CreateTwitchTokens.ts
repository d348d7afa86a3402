import { Table, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Creates `twitch_tokens` and `twitch_token_intents` with the indexes the
 * due-queries read. Built from TypeORM's schema objects, not SQL text, so the
 * same migration runs on SQLite and Postgres.
 */
export class CreateTwitchTokens1795316405494 implements MigrationInterface {
  /** TypeORM records applied migrations under this name. */
  name = 'CreateTwitchTokens1795316405494';

  /** Creates both tables, their indexes and the intent → token foreign key. */
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'twitch_tokens',
        columns: [
          { name: 'user_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'login', type: 'varchar', length: '64', isNullable: true },
          { name: 'access_token', type: 'text' },
          { name: 'refresh_token', type: 'text', isNullable: true },
          { name: 'scopes', type: 'text' },
          { name: 'intents', type: 'text' },
          { name: 'expires_at', type: 'bigint', isNullable: true },
          { name: 'obtained_at', type: 'bigint' },
          { name: 'last_validated_at', type: 'bigint', default: 0 },
          { name: 'status', type: 'varchar', length: '32' },
          { name: 'retry_at', type: 'bigint', default: 0 },
          { name: 'failure_count', type: 'integer', default: 0 },
          { name: 'version', type: 'integer' },
          { name: 'lease_owner', type: 'varchar', length: '255', isNullable: true },
          { name: 'lease_expires_at', type: 'bigint', isNullable: true },
        ],
      }),
    );
    await queryRunner.createIndex(
      'twitch_tokens',
      new TableIndex({ name: 'IDX_twitch_tokens_refresh_due', columnNames: ['status', 'expires_at', 'user_id'] }),
    );
    await queryRunner.createIndex(
      'twitch_tokens',
      new TableIndex({ name: 'IDX_twitch_tokens_validation_due', columnNames: ['status', 'last_validated_at', 'user_id'] }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'twitch_token_intents',
        columns: [
          { name: 'intent', type: 'varchar', length: '255', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '64' },
        ],
        foreignKeys: [
          {
            name: 'FK_twitch_token_intents_user',
            columnNames: ['user_id'],
            referencedTableName: 'twitch_tokens',
            referencedColumnNames: ['user_id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
    await queryRunner.createIndex(
      'twitch_token_intents',
      new TableIndex({ name: 'IDX_twitch_token_intents_user', columnNames: ['user_id'] }),
    );
  }

  /** Drops both tables (intents first, because of the foreign key). */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('twitch_token_intents');
    await queryRunner.dropTable('twitch_tokens');
  }
}
