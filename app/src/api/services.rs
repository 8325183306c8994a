//! Services (circuits) and their dependencies: list (search, filters, pages), read, create,
//! edit, delete, add and remove a dependency, and the choices the forms pick from. Staff read;
//! admins change. Every change commits together with its audit row.

// One argument per form field, so that the forms post flat fields (as `users` does). The
// `#[server]` macro forwards lint attributes to a function's server build but not to its
// browser stub, so this cannot be said per function.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::service::{DependencyChoices, Service, ServiceRow};
use crate::model::Page;

/// One page of the tenant's services. `q` matches the name, the provider, or the customer's
/// name or account id; `kind` is a `ServiceKind` name; empty filters are ignored.
#[server(prefix = "/api", endpoint = "list_services")]
pub async fn list_services(
    q: Option<String>,
    customer: Option<i64>,
    kind: Option<String>,
    page: Option<i64>,
) -> Result<Page<ServiceRow>, AppError> {
    ssr::list_services(q, customer, kind, page).await
}

/// A service with its dependencies.
#[server(prefix = "/api", endpoint = "get_service")]
pub async fn get_service(id: i64) -> Result<Service, AppError> {
    ssr::get_service(id).await
}

/// The tenant's customers, devices, links, redundancy groups and services as (id, label), at
/// most `CHOICES_MAX` of each: what the service forms' selects offer.
#[server(prefix = "/api", endpoint = "list_dependency_choices")]
pub async fn list_dependency_choices() -> Result<DependencyChoices, AppError> {
    ssr::list_dependency_choices().await
}

/// Ids come from selects (empty means none); `access_interface` is an interface name on the
/// access device; `sla_target` is a percentage as text, empty meaning the customer's.
/// `enabled` is a checkbox: absent means off, as HTML forms post nothing for it then.
#[server(prefix = "/api", endpoint = "create_service")]
pub async fn create_service(
    name: String,
    kind: String,
    customer_id: String,
    access_device_id: String,
    access_interface: String,
    pppoe_username_pattern: String,
    sla_target: String,
    business_hours: String,
    provider: String,
    enabled: Option<bool>,
) -> Result<(), AppError> {
    ssr::create_service(ssr::Fields {
        name,
        kind,
        customer_id,
        access_device_id,
        access_interface,
        pppoe_username_pattern,
        sla_target,
        business_hours,
        provider,
        enabled: enabled.unwrap_or(false),
    })
    .await
}

/// Replaces every field of the service, with the same rules as `create_service`. Its
/// dependencies stay.
#[server(prefix = "/api", endpoint = "update_service")]
pub async fn update_service(
    id: i64,
    name: String,
    kind: String,
    customer_id: String,
    access_device_id: String,
    access_interface: String,
    pppoe_username_pattern: String,
    sla_target: String,
    business_hours: String,
    provider: String,
    enabled: Option<bool>,
) -> Result<(), AppError> {
    ssr::update_service(
        id,
        ssr::Fields {
            name,
            kind,
            customer_id,
            access_device_id,
            access_interface,
            pppoe_username_pattern,
            sla_target,
            business_hours,
            provider,
            enabled: enabled.unwrap_or(false),
        },
    )
    .await
}

/// Deletes a service that no other service depends on (otherwise `Conflict`).
#[server(prefix = "/api", endpoint = "delete_service")]
pub async fn delete_service(id: i64) -> Result<(), AppError> {
    ssr::delete_service(id).await
}

/// Makes service `id` depend on the tenant's `kind` (device, link, group, service) `target_id`.
#[server(prefix = "/api", endpoint = "add_service_dependency")]
pub async fn add_service_dependency(id: i64, kind: String, target_id: i64) -> Result<(), AppError> {
    ssr::add_service_dependency(id, kind, target_id).await
}

#[server(prefix = "/api", endpoint = "remove_service_dependency")]
pub async fn remove_service_dependency(
    id: i64,
    kind: String,
    target_id: i64,
) -> Result<(), AppError> {
    ssr::remove_service_dependency(id, kind, target_id).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use serde_json::json;

    use crate::api::server::{admin_caller, audit, staff_caller};
    use crate::db;
    use crate::db::services::{dependencies, Filter};
    use crate::error::AppError;
    use crate::model::customer::CustomerId;
    use crate::model::service::{
        DependencyChoices, DependencyKind, Service, ServiceForm, ServiceId, ServiceInput,
        ServiceKind, ServiceRow,
    };
    use crate::model::{page_number, Page};

    /// The form fields as posted.
    pub struct Fields {
        pub name: String,
        pub kind: String,
        pub customer_id: String,
        pub access_device_id: String,
        pub access_interface: String,
        pub pppoe_username_pattern: String,
        pub sla_target: String,
        pub business_hours: String,
        pub provider: String,
        pub enabled: bool,
    }

    fn validate(f: &Fields) -> Result<ServiceInput, AppError> {
        ServiceForm {
            name: &f.name,
            kind: &f.kind,
            customer_id: &f.customer_id,
            access_device_id: &f.access_device_id,
            access_interface: &f.access_interface,
            pppoe_username_pattern: &f.pppoe_username_pattern,
            sla_target: &f.sla_target,
            business_hours: &f.business_hours,
            provider: &f.provider,
            enabled: f.enabled,
        }
        .validate()
    }

    /// What an audit row records of a service's fields.
    fn summary(s: &ServiceInput) -> serde_json::Value {
        json!({
            "name": s.name,
            "kind": s.kind.as_str(),
            "customer_id": s.customer_id.map(|c| c.0),
            "access_device_id": s.access_device_id,
            "sla_target": s.sla_target.map(|t| t.to_string()),
            "enabled": s.enabled,
        })
    }

    pub async fn list_services(
        q: Option<String>,
        customer: Option<i64>,
        kind: Option<String>,
        page: Option<i64>,
    ) -> Result<Page<ServiceRow>, AppError> {
        let (state, me) = staff_caller().await?;
        if q.as_ref().is_some_and(|q| q.chars().count() > 100) {
            return Err(AppError::invalid("q", "must be at most 100 characters"));
        }
        let kind = kind
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::parse::<ServiceKind>)
            .transpose()?;
        let filter = Filter {
            query: q.as_deref(),
            customer: customer.map(CustomerId),
            kind,
        };
        let page = page_number(page.map(|p| p.to_string()).as_deref());
        let mut conn = state.pool.acquire().await?;
        db::services::list(&mut conn, me.tenant_id, &filter, page).await
    }

    pub async fn get_service(id: i64) -> Result<Service, AppError> {
        let (state, me) = staff_caller().await?;
        let mut conn = state.pool.acquire().await?;
        db::services::get(&mut conn, me.tenant_id, ServiceId(id)).await
    }

    pub async fn list_dependency_choices() -> Result<DependencyChoices, AppError> {
        let (state, me) = staff_caller().await?;
        let mut conn = state.pool.acquire().await?;
        dependencies::choices(&mut conn, me.tenant_id).await
    }

    pub async fn create_service(fields: Fields) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let input = validate(&fields)?;
        let mut tx = state.pool.begin().await?;
        let interface = db::services::resolve_refs(&mut tx, me.tenant_id, &input).await?;
        let id = db::services::insert(&mut *tx, me.tenant_id, &input, interface).await?;
        let mut detail = summary(&input);
        detail["service_id"] = json!(id.0);
        audit(&mut *tx, &me, "service.created", &input.name, detail).await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/inventory/services/{}", id.0));
        Ok(())
    }

    pub async fn update_service(id: i64, fields: Fields) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let input = validate(&fields)?;
        let mut tx = state.pool.begin().await?;
        let before = db::services::name(&mut *tx, me.tenant_id, ServiceId(id)).await?;
        let interface = db::services::resolve_refs(&mut tx, me.tenant_id, &input).await?;
        db::services::update(&mut *tx, me.tenant_id, ServiceId(id), &input, interface).await?;
        audit(
            &mut *tx,
            &me,
            "service.updated",
            &input.name,
            json!({ "service_id": id, "name_before": before, "after": summary(&input) }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/inventory/services/{id}"));
        Ok(())
    }

    pub async fn delete_service(id: i64) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let mut tx = state.pool.begin().await?;
        let name = db::services::delete(&mut tx, me.tenant_id, ServiceId(id)).await?;
        audit(
            &mut *tx,
            &me,
            "service.deleted",
            &name,
            json!({ "service_id": id }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect("/inventory/services");
        Ok(())
    }

    pub async fn add_service_dependency(
        id: i64,
        kind: String,
        target_id: i64,
    ) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let kind: DependencyKind = kind.parse()?;
        let mut tx = state.pool.begin().await?;
        let (name, target) =
            dependencies::add(&mut tx, me.tenant_id, ServiceId(id), kind, target_id).await?;
        audit(
            &mut *tx,
            &me,
            "service.dependency_added",
            &name,
            json!({ "service_id": id, "kind": kind.as_str(), "target_id": target_id,
                    "target": target }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/inventory/services/{id}"));
        Ok(())
    }

    pub async fn remove_service_dependency(
        id: i64,
        kind: String,
        target_id: i64,
    ) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let kind: DependencyKind = kind.parse()?;
        let mut tx = state.pool.begin().await?;
        let name = db::services::name(&mut *tx, me.tenant_id, ServiceId(id)).await?;
        let target = dependencies::target_label(&mut *tx, me.tenant_id, kind, target_id)
            .await?
            .unwrap_or_default();
        dependencies::remove(&mut *tx, me.tenant_id, ServiceId(id), kind, target_id).await?;
        audit(
            &mut *tx,
            &me,
            "service.dependency_removed",
            &name,
            json!({ "service_id": id, "kind": kind.as_str(), "target_id": target_id,
                    "target": target }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/inventory/services/{id}"));
        Ok(())
    }
}
