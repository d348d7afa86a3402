import type { DataSource } from 'typeorm';

/** One row to bulk-insert: the columns that differ from the template row. */
export interface SeedRow {
  userId: string;
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
  obtainedAt: number;
  lastValidatedAt: number;
}

/** SQLite's default limit on bound parameters per statement is 32,766. */
const MAX_PARAMETERS = 30_000;
const STATEMENTS_PER_TRANSACTION = 40;

/**
 * Inserts many token rows fast: multi-row INSERTs, many per transaction,
 * straight through the DataSource (the library's own `save` is one
 * transaction per token, far too slow for a million rows).
 *
 * Every column is copied from `templateUserId`'s row, which the library
 * itself wrote, except the ones `SeedRow` sets; so the bench keeps working
 * when the table gains a column.
 */
export class TokenTableSeeder {
  private constructor(
    private readonly dataSource: DataSource,
    private readonly columns: string[],
    private readonly template: Record<string, unknown>,
  ) {}

  static async fromTemplate(dataSource: DataSource, templateUserId: string): Promise<TokenTableSeeder> {
    const rows = (await dataSource.query('SELECT * FROM twitch_tokens WHERE user_id = ?', [templateUserId])) as Record<string, unknown>[];
    if (rows.length !== 1) throw new Error(`B4: the template row of user ${templateUserId} is missing`);
    return new TokenTableSeeder(dataSource, Object.keys(rows[0]), rows[0]);
  }

  async insert(rows: SeedRow[]): Promise<void> {
    const perStatement = Math.floor(MAX_PARAMETERS / this.columns.length);
    const placeholders = `(${this.columns.map(() => '?').join(', ')})`;
    const head = `INSERT INTO twitch_tokens (${this.columns.map((c) => `"${c}"`).join(', ')}) VALUES `;
    for (let start = 0; start < rows.length; start += perStatement * STATEMENTS_PER_TRANSACTION) {
      const end = Math.min(rows.length, start + perStatement * STATEMENTS_PER_TRANSACTION);
      await this.dataSource.transaction(async (manager) => {
        for (let from = start; from < end; from += perStatement) {
          const chunk = rows.slice(from, Math.min(end, from + perStatement));
          const parameters: unknown[] = [];
          for (const row of chunk) for (const column of this.columns) parameters.push(this.valueOf(row, column));
          await manager.query(head + Array.from({ length: chunk.length }, () => placeholders).join(', '), parameters);
        }
      });
    }
  }

  async delete(userIds: string[]): Promise<void> {
    const perStatement = 10_000;
    for (let from = 0; from < userIds.length; from += perStatement) {
      const chunk = userIds.slice(from, from + perStatement);
      await this.dataSource.query(`DELETE FROM twitch_tokens WHERE user_id IN (${chunk.map(() => '?').join(', ')})`, chunk);
    }
  }

  private valueOf(row: SeedRow, column: string): unknown {
    switch (column) {
      case 'user_id':
        return row.userId;
      case 'login':
        return `user_${row.userId}`;
      case 'access_token':
        return row.accessToken;
      case 'refresh_token':
        return row.refreshToken;
      case 'expires_at':
        return row.expiresAt;
      case 'obtained_at':
        return row.obtainedAt;
      case 'last_validated_at':
        return row.lastValidatedAt;
      default:
        return this.template[column];
    }
  }
}
