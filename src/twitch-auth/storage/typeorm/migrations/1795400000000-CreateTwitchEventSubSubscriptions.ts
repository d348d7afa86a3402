import { Table, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Creates `twitch_eventsub_subscriptions`: the WebSocket subscriptions a restart creates again. */
export class CreateTwitchEventSubSubscriptions1795400000000 implements MigrationInterface {
  /** TypeORM records applied migrations under this name. */
  name = 'CreateTwitchEventSubSubscriptions1795400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'twitch_eventsub_subscriptions',
        columns: [
          { name: 'subscription_key', type: 'varchar', length: '64', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '64' },
          { name: 'type', type: 'varchar', length: '255' },
          { name: 'version', type: 'varchar', length: '32' },
          { name: 'condition', type: 'text' },
          { name: 'scopes', type: 'text' },
          { name: 'created_at', type: 'bigint' },
        ],
      }),
    );
    await queryRunner.createIndex(
      'twitch_eventsub_subscriptions',
      new TableIndex({ name: 'IDX_twitch_eventsub_subscriptions_user', columnNames: ['user_id'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('twitch_eventsub_subscriptions');
  }
}
