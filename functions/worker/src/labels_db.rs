//! D1 queries for the workspace's label catalog.

use crate::db::{all, first, num, run, stmt};
use crate::http::{ApiError, ApiResult};
use serde::{Deserialize, Serialize};
use worker::D1Database;

/// A label the workspace offers: its name (what conversations carry) and color.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Label {
    pub id: String,
    pub name: String,
    pub color: String,
    pub created_at: i64,
}

const COLUMNS: &str = "id, name, color, created_at";

/// A failed write: a taken name (unique per workspace, case aside) is the
/// caller's 409.
fn name_taken(what: &'static str) -> impl Fn(worker::Error) -> ApiError {
    move |e| {
        if e.to_string().contains("UNIQUE") {
            ApiError::new(409, "this workspace already has a label with that name")
        } else {
            ApiError::internal(what, e)
        }
    }
}

/// Runs a write, mapping a taken name to 409; the rows it changed.
async fn write(
    db: &D1Database,
    sql: &str,
    binds: &[wasm_bindgen::JsValue],
    what: &'static str,
) -> ApiResult<usize> {
    let result = stmt(db, sql, binds)?
        .run()
        .await
        .map_err(name_taken(what))?;
    Ok(result
        .meta()
        .ok()
        .flatten()
        .and_then(|m| m.changes)
        .unwrap_or(0))
}

pub async fn labels_of(db: &D1Database, workspace_id: &str) -> ApiResult<Vec<Label>> {
    all(
        db,
        &format!("SELECT {COLUMNS} FROM labels WHERE workspace_id = ?1 ORDER BY name"),
        &[workspace_id.into()],
        "listing labels",
    )
    .await
}

pub async fn label(db: &D1Database, workspace_id: &str, id: &str) -> ApiResult<Option<Label>> {
    first(
        db,
        &format!("SELECT {COLUMNS} FROM labels WHERE id = ?1 AND workspace_id = ?2"),
        &[id.into(), workspace_id.into()],
        "reading a label",
    )
    .await
}

/// The workspace's label of that name (case aside), if any.
pub async fn label_named(
    db: &D1Database,
    workspace_id: &str,
    name: &str,
) -> ApiResult<Option<Label>> {
    first(
        db,
        &format!("SELECT {COLUMNS} FROM labels WHERE workspace_id = ?1 AND name = ?2"),
        &[workspace_id.into(), name.into()],
        "reading a label by name",
    )
    .await
}

pub async fn create_label(db: &D1Database, workspace_id: &str, l: &Label) -> ApiResult<()> {
    write(
        db,
        "INSERT INTO labels (id, workspace_id, name, color, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        &[
            l.id.as_str().into(),
            workspace_id.into(),
            l.name.as_str().into(),
            l.color.as_str().into(),
            num(l.created_at),
        ],
        "creating a label",
    )
    .await?;
    Ok(())
}

pub async fn update_label(db: &D1Database, workspace_id: &str, l: &Label) -> ApiResult<usize> {
    write(
        db,
        "UPDATE labels SET name = ?3, color = ?4 WHERE id = ?1 AND workspace_id = ?2",
        &[
            l.id.as_str().into(),
            workspace_id.into(),
            l.name.as_str().into(),
            l.color.as_str().into(),
        ],
        "updating a label",
    )
    .await
}

pub async fn delete_label(db: &D1Database, workspace_id: &str, id: &str) -> ApiResult<usize> {
    run(
        db,
        "DELETE FROM labels WHERE id = ?1 AND workspace_id = ?2",
        &[id.into(), workspace_id.into()],
        "deleting a label",
    )
    .await
}
