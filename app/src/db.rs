//! All SQL of the app, one file per aggregate root. Functions take `impl PgExecutor` for one
//! statement and `&mut PgConnection` for several (the caller owns the transaction). Every query
//! of tenant-owned data filters on the caller's tenant.

pub mod agents;
pub mod audit;
pub mod credentials;
pub mod customers;
pub mod devices;
pub mod discovery;
pub mod encryption_key;
pub mod groups;
pub mod imports;
pub mod links;
pub mod login_attempts;
pub mod probes;
pub mod services;
pub mod sites;
pub mod summary;
pub mod telemetry;
pub mod tenants;
pub mod topology;
pub mod users;

use crate::error::AppError;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Timestamps cross the wire as RFC 3339 UTC strings.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// True if the error is a unique-constraint violation (SQLSTATE 23505).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}

/// A by-id update or delete of tenant data: no row touched means the id is not the tenant's.
pub fn found(done: &sqlx::postgres::PgQueryResult) -> Result<(), AppError> {
    if done.rows_affected() == 0 {
        Err(AppError::NotFound)
    } else {
        Ok(())
    }
}

/// The constraint a unique (23505) or foreign-key (23503) violation names, so that callers can
/// answer with the form field it concerns.
pub fn violated_constraint(err: &sqlx::Error) -> Option<&str> {
    match err {
        sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("23505" | "23503")) => {
            db.constraint()
        }
        _ => None,
    }
}

/// Reads an enum column; a value the code does not know is a server fault, logged.
pub fn parse_column<T: std::str::FromStr>(column: &str, value: &str) -> Result<T, AppError> {
    value.parse().map_err(|_| {
        tracing::error!(column, value, "unknown value in database");
        AppError::Internal
    })
}

/// Turns a search box into an ILIKE pattern that matches the text literally.
pub fn like_pattern(query: Option<&str>) -> Option<String> {
    query.map(str::trim).filter(|q| !q.is_empty()).map(|q| {
        format!(
            "%{}%",
            q.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    })
}

/// True if an IANA zone name is known to the database (the list the server's clock uses).
pub async fn timezone_exists(db: impl sqlx::PgExecutor<'_>, name: &str) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select exists(select 1 from pg_timezone_names where name = $1) as "exists!""#,
        name
    )
    .fetch_one(db)
    .await?)
}
