import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Read access to the jobs' data store (jobs/common/store.py owns the schema and every write) for the API
 * and the dashboard: a read in the request path costs microseconds here, where a Python job would cost a
 * second. Only `sqlite:///path` stores can be read this way.
 */
export type StoreDb = Database.Database;

/**
 * The file path of a store URL as the jobs read it (SQLAlchemy style: `sqlite:///relative/path`, relative
 * to the project root, or `sqlite:////absolute/path`), or undefined for any other kind of store.
 */
export function sqlitePath(storeUrl: string, root: string): string | undefined {
  const match = /^sqlite:\/\/\/(.+)$/.exec(storeUrl);
  return match ? resolve(root, match[1]!) : undefined;
}

/**
 * Opens the store read-only, or returns undefined while it does not exist yet (a fresh clone before the
 * first fetch). WAL mode lets these reads run beside a job's write transaction.
 */
export function openStoreReadOnly(storeUrl: string, root: string): StoreDb | undefined {
  const path = sqlitePath(storeUrl, root);
  if (!path || !existsSync(path)) return undefined;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}
