//! The audit log page's data.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::audit::AuditRow;

/// A page of the tenant's audit events, newest first, older than `before` if given. Admins only.
#[server(prefix = "/api", endpoint = "list_audit")]
pub async fn list_audit(before: Option<i64>) -> Result<Vec<AuditRow>, AppError> {
    ssr::list_audit(before).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::auth;
    use crate::db;
    use crate::error::AppError;
    use crate::model::audit::AuditRow;
    use crate::state::use_state;

    /// Rows per page of the audit log.
    const PAGE: i64 = 100;

    pub async fn list_audit(before: Option<i64>) -> Result<Vec<AuditRow>, AppError> {
        let state = use_state()?;
        let me = auth::require_user(&state).await?;
        me.require_admin()?;
        db::audit::list(&state.pool, me.tenant_id, before, PAGE).await
    }
}
