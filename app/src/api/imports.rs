//! CSV imports of the inventory: an upload is checked by a dry run and kept
//! (`ssr::upload`, called by the server's multipart route), then applied all or nothing
//! (`apply_import`). Admins only: an import changes the inventory. Exports are staff reads
//! (`ssr::export`, also a plain route, since a download is a file, not a page).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::import::{ImportDetail, ImportRow};

#[server(prefix = "/api", endpoint = "get_import")]
pub async fn get_import(id: i64) -> Result<ImportDetail, AppError> {
    ssr::get_import(id).await
}

/// The tenant's recent imports, newest first.
#[server(prefix = "/api", endpoint = "list_imports")]
pub async fn list_imports() -> Result<Vec<ImportRow>, AppError> {
    ssr::list_imports().await
}

/// Applies a previewed import: every row is checked again, and the whole file commits or
/// nothing does.
#[server(prefix = "/api", endpoint = "apply_import")]
pub async fn apply_import(id: i64) -> Result<(), AppError> {
    ssr::apply_import(id).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use serde_json::json;
    use sqlx::PgPool;

    use crate::api::server::{admin_caller, audit};
    use crate::auth::AuthUser;
    use crate::db;
    use crate::db::imports::{Stored, Upload};
    use crate::error::AppError;
    use crate::import::{self, Outcome};
    use crate::model::import::{ImportDetail, ImportId, ImportKind, ImportRow, ImportStatus};

    /// Imports listed on the import page.
    const RECENT: i64 = 20;

    pub async fn get_import(id: i64) -> Result<ImportDetail, AppError> {
        let (state, me) = admin_caller().await?;
        db::imports::get(&state.pool, me.tenant_id, ImportId(id)).await
    }

    pub async fn list_imports() -> Result<Vec<ImportRow>, AppError> {
        let (state, me) = admin_caller().await?;
        db::imports::recent(&state.pool, me.tenant_id, RECENT).await
    }

    /// A received file, as the multipart route read it.
    pub struct Received<'a> {
        pub kind: &'a str,
        pub filename: &'a str,
        /// What was kept: at most `import::MAX_UPLOAD_BYTES + 1` bytes.
        pub bytes: &'a [u8],
        /// Every byte that arrived, also those not kept.
        pub size: usize,
    }

    /// Checks an uploaded file with a dry run (rolled back) and keeps it with the result,
    /// whatever the result: a rejected file is kept too, with why (without its content when it
    /// was too large or not text). The caller is an admin (checked here).
    pub async fn upload(
        pool: &PgPool,
        me: &AuthUser,
        file: &Received<'_>,
    ) -> Result<ImportId, AppError> {
        me.require_admin()?;
        let kind: ImportKind = file.kind.parse()?;
        let filename: String = file
            .filename
            .chars()
            .filter(|c| !c.is_control())
            .take(255)
            .collect();
        let mut upload = Upload {
            kind,
            filename: if filename.is_empty() {
                "upload.csv"
            } else {
                &filename
            },
            size_bytes: i64::try_from(file.size).unwrap_or(i64::MAX),
            content: None,
            by: me.id,
        };
        if file.size > import::MAX_UPLOAD_BYTES {
            let reason = format!(
                "the file is {:.1} MB; the limit is {} MB (split it into several files)",
                mb(file.size),
                import::MAX_UPLOAD_BYTES / (1024 * 1024)
            );
            return db::imports::insert(pool, me.tenant_id, &upload, &Stored::rejected(&reason))
                .await;
        }
        let text = match import::decode(file.bytes) {
            Ok(text) => text,
            Err(reason) => {
                return db::imports::insert(pool, me.tenant_id, &upload, &Stored::rejected(&reason))
                    .await
            }
        };
        upload.content = Some(text);
        let table = match import::read(kind, text) {
            Ok(table) => table,
            Err(reason) => {
                return db::imports::insert(pool, me.tenant_id, &upload, &Stored::rejected(&reason))
                    .await
            }
        };
        let mut tx = pool.begin().await?;
        let outcome = import::run(&mut tx, me.tenant_id, kind, &table).await?;
        tx.rollback().await?;
        let rows = rows_of(&table);
        db::imports::insert(
            pool,
            me.tenant_id,
            &upload,
            &stored(ImportStatus::Previewed, rows, &outcome),
        )
        .await
    }

    pub async fn apply_import(id: i64) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let id = ImportId(id);
        let mut tx = state.pool.begin().await?;
        let file = db::imports::lock_for_apply(&mut *tx, me.tenant_id, id).await?;
        match file.status {
            ImportStatus::Previewed if file.error_count > 0 || file.file_error => {
                return Err(AppError::conflict(
                    "import",
                    "the file has rows that cannot be imported; fix them and upload it again",
                ))
            }
            ImportStatus::Previewed => {}
            ImportStatus::Applied => {
                return Err(AppError::conflict(
                    "import",
                    "this file was applied already",
                ))
            }
            ImportStatus::Rejected => {
                return Err(AppError::conflict(
                    "import",
                    "this file was rejected; fix it and upload it again",
                ))
            }
        }
        let kind = file.kind;
        let Some(text) = file.content else {
            tracing::error!(import.id = id.0, "previewed import without content");
            return Err(AppError::Internal);
        };
        let table = import::read(kind, &text).map_err(|reason| {
            tracing::error!(
                import.id = id.0,
                reason,
                "a previewed import no longer reads"
            );
            AppError::Internal
        })?;
        let outcome = import::run(&mut tx, me.tenant_id, kind, &table).await?;
        let rows = rows_of(&table);
        if outcome.failed() {
            // Something changed since the dry run: nothing is applied, and the page shows
            // the new errors.
            tx.rollback().await?;
            db::imports::set_result(
                &state.pool,
                me.tenant_id,
                id,
                &stored(ImportStatus::Previewed, rows, &outcome),
                None,
            )
            .await?;
        } else {
            db::imports::set_result(
                &mut *tx,
                me.tenant_id,
                id,
                &stored(ImportStatus::Applied, rows, &outcome),
                Some(me.id),
            )
            .await?;
            audit(
                &mut *tx,
                &me,
                "inventory.imported",
                kind.as_str(),
                json!({ "import_id": id.0, "created": outcome.created,
                        "updated": outcome.updated, "unchanged": outcome.unchanged }),
            )
            .await?;
            tx.commit().await?;
        }
        leptos_axum::redirect(&format!("/inventory/import/{}", id.0));
        Ok(())
    }

    /// The kind's rows as a CSV file. Staff may read the inventory, so they may export it.
    pub async fn export(
        pool: &PgPool,
        me: &AuthUser,
        kind: ImportKind,
    ) -> Result<String, AppError> {
        me.require_staff()?;
        let mut conn = pool.acquire().await?;
        import::export(&mut conn, me.tenant_id, kind).await
    }

    fn rows_of(table: &import::Table) -> i64 {
        i64::try_from(table.records.len() + table.errors.len()).unwrap_or(i64::MAX)
    }

    fn stored(status: ImportStatus, data_rows: i64, o: &Outcome) -> Stored<'_> {
        Stored {
            status,
            file_error: o.file_error.as_deref(),
            data_rows,
            created: o.created,
            updated: o.updated,
            unchanged: o.unchanged,
            error_count: o.error_count,
            errors: &o.errors,
            preview: &o.preview,
        }
    }

    fn mb(bytes: usize) -> f64 {
        bytes as f64 / (1024.0 * 1024.0)
    }
}
