//! Small helpers both objects use with their SQLite.

use crate::http::ApiError;
use serde::Deserialize;
use worker::SqlStorageValue;

pub fn int(v: i64) -> SqlStorageValue {
    SqlStorageValue::from(v)
}

pub fn text(v: &str) -> SqlStorageValue {
    SqlStorageValue::from(v.to_string())
}

pub fn opt_text(v: Option<&str>) -> SqlStorageValue {
    v.map(text).unwrap_or(SqlStorageValue::Null)
}

/// A failed SQL call: logged with `what`, a bare 500 for the client.
pub fn sql_err(what: &'static str) -> impl Fn(worker::Error) -> ApiError {
    move |e| ApiError::internal(what, e)
}

/// A row of one integer column named `n`.
#[derive(Deserialize)]
pub struct Count {
    pub n: i64,
}

/// A row of one text column named `body` (stored event JSON).
#[derive(Deserialize)]
pub struct Body {
    pub body: String,
}

/// Reads `SELECT … AS n` into a number, or `default` when there is no row.
pub fn scalar(
    sql: &worker::SqlStorage,
    query: &str,
    binds: Vec<SqlStorageValue>,
    default: i64,
) -> worker::Result<i64> {
    Ok(sql
        .exec(query, binds)?
        .to_array::<Count>()?
        .into_iter()
        .next()
        .map(|c| c.n)
        .unwrap_or(default))
}
