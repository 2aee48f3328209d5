//! Versioned SQLite schemas for the Durable Objects.
//!
//! An object's storage outlives every deploy, so each object records which
//! schema its tables are at in `schema_version` (one row: the last numbered
//! step applied and a fingerprint of the table definitions). Waking, an
//! object only reads that row; when it is behind — state written by an
//! older release, or no row at all (written before versions existed) — it
//! brings the tables forward once:
//!
//! 1. the baseline: every `CREATE … IF NOT EXISTS`, then each added column
//!    where it is missing, then what needs those columns (indexes). This is
//!    idempotent, so it is correct on any state from the first release on;
//!    it reruns whenever the definitions change (the fingerprint), so a new
//!    table or column only needs adding here.
//! 2. the numbered steps above the stored version, in order: changes that
//!    are not idempotent (rebuilding an index, rewriting rows). Each runs
//!    once. Add one with the next number; never edit a released one.
//!
//! All of it runs inside the object's constructor, before any request, in
//! one synchronous turn, so the writes commit together.

use serde::Deserialize;
use worker::SqlStorage;

pub struct Schema {
    /// For logs: "conversation object".
    pub object: &'static str,
    /// `CREATE TABLE/INDEX … IF NOT EXISTS` for today's tables.
    pub tables: &'static [&'static str],
    /// `(table, column, declaration)` added after the table was first released.
    pub added_columns: &'static [(&'static str, &'static str, &'static str)],
    /// Statements that need the added columns (indexes on them).
    pub after_columns: &'static [&'static str],
    /// `(version, statements)`, numbered from 2 (1 is the baseline alone).
    pub steps: &'static [(i64, &'static str)],
}

const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_version (
  one INTEGER PRIMARY KEY CHECK (one = 1), version INTEGER NOT NULL, fingerprint TEXT NOT NULL
)";

impl Schema {
    /// The version today's code writes: the last step's number, or 1.
    pub fn version(&self) -> i64 {
        self.steps.iter().map(|(v, _)| *v).max().unwrap_or(1).max(1)
    }

    /// FNV-1a over the baseline's definitions: changes when they do.
    fn fingerprint(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |s: &str| {
            for b in s.bytes().chain([0u8]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        };
        self.tables.iter().for_each(|s| eat(s));
        for (t, c, d) in self.added_columns {
            eat(t);
            eat(c);
            eat(d);
        }
        self.after_columns.iter().for_each(|s| eat(s));
        format!("{h:016x}")
    }

    /// The cheap check every wake makes; the migration when behind.
    /// Failures are logged (a bare 500 follows on the query that needs the
    /// missing piece) and retried on the next wake, as nothing is recorded.
    pub fn ensure(&self, sql: &SqlStorage) {
        let fingerprint = self.fingerprint();
        let (stored, stored_fp) = stored(sql);
        if stored == self.version() && stored_fp == fingerprint {
            return;
        }
        if let Err(e) = self.migrate(sql, stored, &fingerprint) {
            worker::console_error!(
                "{}: migrating its tables from version {stored} failed: {e}",
                self.object
            );
        }
    }

    /// Every table anew, after `delete_all` (an erasure).
    pub fn recreate(&self, sql: &SqlStorage) -> worker::Result<()> {
        self.migrate(sql, 0, &self.fingerprint())
    }

    fn migrate(&self, sql: &SqlStorage, from: i64, fingerprint: &str) -> worker::Result<()> {
        for statements in self.tables {
            sql.exec(statements, None)?;
        }
        for (table, column, decl) in self.added_columns {
            add_column_if_missing(sql, table, column, decl)?;
        }
        for statements in self.after_columns {
            sql.exec(statements, None)?;
        }
        for (version, statements) in self.steps {
            if *version > from {
                sql.exec(statements, None)?;
            }
        }
        sql.exec(VERSION_TABLE, None)?;
        sql.exec(
            "INSERT INTO schema_version (one, version, fingerprint) VALUES (1, ?, ?) \
             ON CONFLICT (one) DO UPDATE SET version = excluded.version, \
             fingerprint = excluded.fingerprint",
            vec![self.version().into(), fingerprint.to_string().into()],
        )?;
        if from > 0 {
            worker::console_log!(
                "{}: tables migrated from version {from} to {}",
                self.object,
                self.version()
            );
        }
        Ok(())
    }
}

/// The stored `(version, fingerprint)`; `(0, "")` before versions existed
/// (no table) or in a new object.
fn stored(sql: &SqlStorage) -> (i64, String) {
    #[derive(Deserialize)]
    struct Row {
        version: i64,
        fingerprint: String,
    }
    // No table (an error here) is version 0.
    sql.exec(
        "SELECT version, fingerprint FROM schema_version WHERE one = 1",
        None,
    )
    .and_then(|c| c.to_array::<Row>())
    .ok()
    .and_then(|rows| rows.into_iter().next())
    .map(|r| (r.version, r.fingerprint))
    .unwrap_or((0, String::new()))
}

fn add_column_if_missing(
    sql: &SqlStorage,
    table: &str,
    column: &str,
    decl: &str,
) -> worker::Result<()> {
    #[derive(Deserialize)]
    struct Col {
        name: String,
    }
    let columns = sql
        .exec(&format!("PRAGMA table_info({table})"), None)?
        .to_array::<Col>()?;
    if !columns.iter().any(|c| c.name == column) {
        sql.exec(
            &format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"),
            None,
        )?;
    }
    Ok(())
}
