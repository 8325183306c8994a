//! Tenants.

use sqlx::PgExecutor;

use crate::db::is_unique_violation;
use crate::error::AppError;
use crate::model::user::TenantId;

pub async fn insert(db: impl PgExecutor<'_>, name: &str, slug: &str) -> Result<TenantId, AppError> {
    sqlx::query_scalar!(
        "insert into tenant (name, slug) values ($1, $2) returning id",
        name,
        slug
    )
    .fetch_one(db)
    .await
    .map(TenantId)
    .map_err(|err| {
        if is_unique_violation(&err) {
            AppError::conflict("slug", "is already taken")
        } else {
            err.into()
        }
    })
}

pub async fn find_by_slug(
    db: impl PgExecutor<'_>,
    slug: &str,
) -> Result<Option<TenantId>, AppError> {
    Ok(
        sqlx::query_scalar!("select id from tenant where slug = $1", slug)
            .fetch_optional(db)
            .await?
            .map(TenantId),
    )
}
