//! The attachments bucket (R2, binding `ATTACHMENTS`). Keys are
//! `{workspace_id}/{conversation_id}/{attachment_id}`
//! (`attachments::object_key`), so the walls between tenants hold in the
//! storage itself: every read names the caller's own workspace.

use crate::http::{ApiError, ApiResult};
use std::collections::HashMap;
use worker::{Bucket, Env, HttpMetadata};

pub const BINDING: &str = "ATTACHMENTS";

/// What is recorded beside the bytes, so serving needs no other lookup.
pub struct Stored<'a> {
    pub content_type: &'a str,
    pub filename: &'a str,
    pub sha256: &'a str,
}

pub fn bucket(env: &Env) -> ApiResult<Bucket> {
    env.bucket(BINDING).map_err(|e| {
        ApiError::internal(
            "binding ATTACHMENTS is missing (check wrangler.toml's [[r2_buckets]])",
            e,
        )
    })
}

pub async fn put(env: &Env, key: &str, bytes: Vec<u8>, meta: &Stored<'_>) -> ApiResult<()> {
    let custom: HashMap<String, String> = [
        ("filename".to_string(), meta.filename.to_string()),
        ("sha256".to_string(), meta.sha256.to_string()),
    ]
    .into();
    bucket(env)?
        .put(key, bytes)
        .http_metadata(HttpMetadata {
            content_type: Some(meta.content_type.to_string()),
            ..HttpMetadata::default()
        })
        .custom_metadata(custom)
        .execute()
        .await
        .map_err(|e| ApiError::internal("storing an attachment in R2", e))?;
    Ok(())
}

/// The bytes of a stored object, if it exists.
pub async fn bytes(env: &Env, key: &str) -> ApiResult<Option<Vec<u8>>> {
    let Some(object) = bucket(env)?
        .get(key)
        .execute()
        .await
        .map_err(|e| ApiError::internal("reading an attachment from R2", e))?
    else {
        return Ok(None);
    };
    match object.body() {
        Some(body) => Ok(Some(body.bytes().await.map_err(|e| {
            ApiError::internal("reading an attachment's bytes from R2", e)
        })?)),
        None => Ok(None),
    }
}

pub async fn delete(env: &Env, key: &str) -> ApiResult<()> {
    bucket(env)?
        .delete(key)
        .await
        .map_err(|e| ApiError::internal("deleting an attachment from R2", e))
}

/// Deletes every object under `prefix` (a conversation's files).
pub async fn delete_prefix(env: &Env, prefix: &str) -> ApiResult<usize> {
    let bucket = bucket(env)?;
    let mut deleted = 0;
    loop {
        let page = bucket
            .list()
            .prefix(prefix)
            .limit(500)
            .execute()
            .await
            .map_err(|e| ApiError::internal("listing attachments in R2", e))?;
        let objects = page.objects();
        if objects.is_empty() {
            return Ok(deleted);
        }
        for o in objects {
            bucket
                .delete(o.key())
                .await
                .map_err(|e| ApiError::internal("deleting an attachment from R2", e))?;
            deleted += 1;
        }
        if !page.truncated() {
            return Ok(deleted);
        }
    }
}
