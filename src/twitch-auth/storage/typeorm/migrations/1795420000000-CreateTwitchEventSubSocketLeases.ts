import { Table, TableColumn, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lets instances on one database share users' EventSub WebSocket sockets:
 * a lease per user (`twitch_eventsub_socket_leases`), a heartbeat per
 * instance (`twitch_eventsub_socket_members`), and the Twitch id each stored
 * subscription was last created under (`twitch_eventsub_subscriptions.subscription_id`),
 * so any instance can unsubscribe by that id.
 */
export class CreateTwitchEventSubSocketLeases1795420000000 implements MigrationInterface {
  /** TypeORM records applied migrations under this name. */
  name = 'CreateTwitchEventSubSocketLeases1795420000000';

  /** Creates the two tables and adds the column. */
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'twitch_eventsub_socket_leases',
        columns: [
          { name: 'user_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'owner', type: 'varchar', length: '128' },
          { name: 'lease_expires_at', type: 'bigint' },
        ],
      }),
    );
    await queryRunner.createIndex(
      'twitch_eventsub_socket_leases',
      new TableIndex({ name: 'IDX_twitch_eventsub_socket_leases_owner', columnNames: ['owner'] }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'twitch_eventsub_socket_members',
        columns: [
          { name: 'owner', type: 'varchar', length: '128', isPrimary: true },
          { name: 'expires_at', type: 'bigint' },
        ],
      }),
    );
    await queryRunner.addColumn(
      'twitch_eventsub_subscriptions',
      new TableColumn({ name: 'subscription_id', type: 'varchar', length: '64', isNullable: true }),
    );
  }

  /** Drops the column and the two tables. */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('twitch_eventsub_subscriptions', 'subscription_id');
    await queryRunner.dropTable('twitch_eventsub_socket_members');
    await queryRunner.dropTable('twitch_eventsub_socket_leases');
  }
}
