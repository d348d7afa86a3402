import { Table, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Creates `twitch_auth_claims`: one-time keys (OAuth state, EventSub message ids) shared by instances. */
export class CreateTwitchAuthClaims1795320000000 implements MigrationInterface {
  /** TypeORM records applied migrations under this name. */
  name = 'CreateTwitchAuthClaims1795320000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'twitch_auth_claims',
        columns: [
          { name: 'claim_key', type: 'varchar', length: '255', isPrimary: true },
          { name: 'expires_at', type: 'bigint' },
        ],
      }),
    );
    await queryRunner.createIndex(
      'twitch_auth_claims',
      new TableIndex({ name: 'IDX_twitch_auth_claims_expires_at', columnNames: ['expires_at'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('twitch_auth_claims');
  }
}
