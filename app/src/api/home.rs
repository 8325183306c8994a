//! The home page's data.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::summary::TenantSummary;

/// Summary counts of the caller's tenant. Staff only: customers get their own portal.
#[server(prefix = "/api", endpoint = "tenant_summary")]
pub async fn get_tenant_summary() -> Result<TenantSummary, AppError> {
    ssr::get_tenant_summary().await
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::auth;
    use crate::db;
    use crate::error::AppError;
    use crate::model::summary::TenantSummary;
    use crate::state::use_state;

    pub async fn get_tenant_summary() -> Result<TenantSummary, AppError> {
        let state = use_state()?;
        let me = auth::require_user(&state).await?;
        me.require_staff()?;
        db::summary::for_tenant(&state.pool, me.tenant_id).await
    }
}
