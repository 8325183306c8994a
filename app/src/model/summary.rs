//! The home page's tenant summary.

use serde::{Deserialize, Serialize};

/// Counts that describe a tenant at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSummary {
    pub tenant_name: String,
    pub users_total: i64,
    pub users_active: i64,
    pub admins: i64,
    pub operators: i64,
    pub viewers: i64,
    pub customers: i64,
    /// Audit events of the tenant in the last 24 hours.
    pub audit_events_24h: i64,
    /// Failed sign-ins to the tenant's accounts in the last 24 hours.
    pub failed_logins_24h: i64,
}
