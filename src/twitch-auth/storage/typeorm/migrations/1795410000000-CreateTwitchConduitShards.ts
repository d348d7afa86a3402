import { Table } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Creates the tables instances share a conduit through: shard leases
 * (`twitch_eventsub_conduit_shards`), instance heartbeats
 * (`twitch_eventsub_conduit_members`) and the conduit id of each configured
 * name (`twitch_eventsub_conduits`).
 */
export class CreateTwitchConduitShards1795410000000 implements MigrationInterface {
  /** TypeORM records applied migrations under this name. */
  name = 'CreateTwitchConduitShards1795410000000';

  /** Creates the three tables. */
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'twitch_eventsub_conduit_shards',
        columns: [
          { name: 'conduit_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'shard_id', type: 'integer', isPrimary: true },
          { name: 'owner', type: 'varchar', length: '128', isNullable: true },
          { name: 'lease_expires_at', type: 'bigint', isNullable: true },
          { name: 'session_id', type: 'varchar', length: '255', isNullable: true },
          { name: 'associated_at', type: 'bigint', isNullable: true },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'twitch_eventsub_conduit_members',
        columns: [
          { name: 'conduit_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'owner', type: 'varchar', length: '128', isPrimary: true },
          { name: 'expires_at', type: 'bigint' },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'twitch_eventsub_conduits',
        columns: [
          { name: 'name', type: 'varchar', length: '100', isPrimary: true },
          { name: 'conduit_id', type: 'varchar', length: '64' },
        ],
      }),
    );
  }

  /** Drops the three tables. */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('twitch_eventsub_conduits');
    await queryRunner.dropTable('twitch_eventsub_conduit_members');
    await queryRunner.dropTable('twitch_eventsub_conduit_shards');
  }
}
