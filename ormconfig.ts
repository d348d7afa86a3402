import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptionsFromUrl } from './src/twitch-auth/storage/typeorm/database-url.js';

/**
 * The DataSource the TypeORM CLI uses (`typeorm migration:run -d ormconfig.ts`):
 * the same database the demo app and the CLI open, a local SQLite file unless
 * DATABASE_URL says otherwise.
 */
export default new DataSource(dataSourceOptionsFromUrl(process.env.DATABASE_URL ?? 'sqlite:data/twitch-auth.sqlite'));
