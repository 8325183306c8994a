//! CSV imports: the record of each upload (kept whatever became of it) and its last result.

use sqlx::types::Json;
use sqlx::PgExecutor;

use crate::db::{parse_column, rfc3339};
use crate::error::AppError;
use crate::model::import::{
    ImportDetail, ImportId, ImportKind, ImportRow, ImportStatus, PreviewRow, RowError,
};
use crate::model::user::{TenantId, UserId};

/// A run's result as stored: counts, the first row errors and the first rows' actions.
pub struct Stored<'a> {
    pub status: ImportStatus,
    pub file_error: Option<&'a str>,
    pub data_rows: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub error_count: i64,
    pub errors: &'a [RowError],
    pub preview: &'a [PreviewRow],
}

impl<'a> Stored<'a> {
    /// A file refused as a whole, with why.
    pub fn rejected(reason: &'a str) -> Self {
        Stored {
            status: ImportStatus::Rejected,
            file_error: Some(reason),
            data_rows: 0,
            created: 0,
            updated: 0,
            unchanged: 0,
            error_count: 0,
            errors: &[],
            preview: &[],
        }
    }
}

/// A received file.
pub struct Upload<'a> {
    pub kind: ImportKind,
    pub filename: &'a str,
    pub size_bytes: i64,
    /// The text, when it could be read as UTF-8 within the size limit.
    pub content: Option<&'a str>,
    pub by: UserId,
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    up: &Upload<'_>,
    r: &Stored<'_>,
) -> Result<ImportId, AppError> {
    let id = sqlx::query_scalar!(
        r#"insert into inventory_import (tenant_id, kind, filename, size_bytes, content, status,
                  file_error, data_rows, created_rows, updated_rows, unchanged_rows, error_count,
                  errors, preview, created_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
           returning id"#,
        tenant.0,
        up.kind.as_str(),
        up.filename,
        up.size_bytes,
        up.content,
        r.status.as_str(),
        r.file_error,
        i32::try_from(r.data_rows).unwrap_or(i32::MAX),
        i32::try_from(r.created).unwrap_or(i32::MAX),
        i32::try_from(r.updated).unwrap_or(i32::MAX),
        i32::try_from(r.unchanged).unwrap_or(i32::MAX),
        i32::try_from(r.error_count).unwrap_or(i32::MAX),
        Json(r.errors) as _,
        Json(r.preview) as _,
        up.by.0
    )
    .fetch_one(db)
    .await?;
    Ok(ImportId(id))
}

/// Records the result of applying (or of a failed attempt, which stays `previewed`).
pub async fn set_result(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: ImportId,
    r: &Stored<'_>,
    applied_by: Option<UserId>,
) -> Result<(), AppError> {
    let done = sqlx::query!(
        r#"update inventory_import
              set status = $3, file_error = $4, data_rows = $5, created_rows = $6,
                  updated_rows = $7, unchanged_rows = $8, error_count = $9, errors = $10,
                  preview = $11, applied_by = $12,
                  applied_at = case when $3 = 'applied' then now() end
           where tenant_id = $1 and id = $2"#,
        tenant.0,
        id.0,
        r.status.as_str(),
        r.file_error,
        i32::try_from(r.data_rows).unwrap_or(i32::MAX),
        i32::try_from(r.created).unwrap_or(i32::MAX),
        i32::try_from(r.updated).unwrap_or(i32::MAX),
        i32::try_from(r.unchanged).unwrap_or(i32::MAX),
        i32::try_from(r.error_count).unwrap_or(i32::MAX),
        Json(r.errors) as _,
        Json(r.preview) as _,
        applied_by.map(|u| u.0)
    )
    .execute(db)
    .await?;
    crate::db::found(&done)
}

/// What applying an import starts from, read under a row lock.
pub struct ToApply {
    pub kind: ImportKind,
    pub status: ImportStatus,
    pub error_count: i64,
    /// The rows together were refused (e.g. an upstream cycle).
    pub file_error: bool,
    pub content: Option<String>,
}

/// The import, locked for applying it (two clicks on "apply" run one after the other).
pub async fn lock_for_apply(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: ImportId,
) -> Result<ToApply, AppError> {
    let r = sqlx::query!(
        r#"select kind, status, error_count, file_error is not null as "file_error!", content
           from inventory_import
           where tenant_id = $1 and id = $2 for update"#,
        tenant.0,
        id.0
    )
    .fetch_optional(db)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(ToApply {
        kind: parse_column("inventory_import.kind", &r.kind)?,
        status: parse_column("inventory_import.status", &r.status)?,
        error_count: r.error_count.into(),
        file_error: r.file_error,
        content: r.content,
    })
}

pub async fn get(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: ImportId,
) -> Result<ImportDetail, AppError> {
    let r = sqlx::query!(
        r#"select i.id, i.kind, i.filename, i.size_bytes, i.status, i.file_error, i.data_rows,
                  i.created_rows, i.updated_rows, i.unchanged_rows, i.error_count,
                  i.errors as "errors: Json<Vec<RowError>>",
                  i.preview as "preview: Json<Vec<PreviewRow>>",
                  c.username as "created_by?", i.created_at,
                  a.username as "applied_by?", i.applied_at
           from inventory_import i
           left join app_user c on c.id = i.created_by
           left join app_user a on a.id = i.applied_by
           where i.tenant_id = $1 and i.id = $2"#,
        tenant.0,
        id.0
    )
    .fetch_optional(db)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(ImportDetail {
        id: ImportId(r.id),
        kind: parse_column("inventory_import.kind", &r.kind)?,
        filename: r.filename,
        size_bytes: r.size_bytes,
        status: parse_column("inventory_import.status", &r.status)?,
        file_error: r.file_error,
        data_rows: r.data_rows.into(),
        created_rows: r.created_rows.into(),
        updated_rows: r.updated_rows.into(),
        unchanged_rows: r.unchanged_rows.into(),
        error_count: r.error_count.into(),
        errors: r.errors.0,
        preview: r.preview.0,
        created_by: r.created_by,
        created_at: rfc3339(r.created_at),
        applied_by: r.applied_by,
        applied_at: r.applied_at.map(rfc3339),
    })
}

/// The tenant's most recent imports, newest first.
pub async fn recent(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    limit: i64,
) -> Result<Vec<ImportRow>, AppError> {
    let rows = sqlx::query!(
        r#"select i.id, i.kind, i.filename, i.status, i.data_rows, i.error_count,
                  c.username as "created_by?", i.created_at
           from inventory_import i left join app_user c on c.id = i.created_by
           where i.tenant_id = $1 order by i.id desc limit $2"#,
        tenant.0,
        limit
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(ImportRow {
                id: ImportId(r.id),
                kind: parse_column("inventory_import.kind", &r.kind)?,
                filename: r.filename,
                status: parse_column("inventory_import.status", &r.status)?,
                data_rows: r.data_rows.into(),
                error_count: r.error_count.into(),
                created_by: r.created_by,
                created_at: rfc3339(r.created_at),
            })
        })
        .collect()
}
