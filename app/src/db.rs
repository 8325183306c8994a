//! All SQL of the app, one file per aggregate root. Functions take `impl PgExecutor` for one
//! statement and `&mut PgConnection` for several (the caller owns the transaction). Every query
//! of tenant-owned data filters on the caller's tenant.

pub mod audit;
pub mod login_attempts;
pub mod summary;
pub mod tenants;
pub mod users;

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
