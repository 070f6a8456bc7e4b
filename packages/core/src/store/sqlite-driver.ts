import type BetterSqlite3 from 'better-sqlite3'
import { loadOptionalPeer, type RequireModule } from './optional-peer.js'

export type SqliteDriver = typeof BetterSqlite3
export type SqliteDatabase = BetterSqlite3.Database

/**
 * Loads better-sqlite3 only when a SQLite store is created, so importing the core never needs it
 * (it is an optional peer dependency).
 */
export function loadSqliteDriver(requireModule?: RequireModule): SqliteDriver {
  return loadOptionalPeer('better-sqlite3', 'sqliteStore', requireModule) as SqliteDriver
}
