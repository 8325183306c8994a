//! Devices, their interfaces and their probes: list with filters, read, create, edit, delete.
//! Staff read; admins change. Every change is audited in its own transaction.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::device::{
    DeviceChoices, DeviceDetail, DeviceFilter, DeviceForm, DeviceImpact, DeviceRow, InterfaceForm,
};
use crate::model::probe::ProbeForm;
use crate::model::Page;

/// Every filter is optional: no arguments at all lists the first page of everything.
#[server(prefix = "/api", endpoint = "list_devices")]
pub async fn list_devices(
    #[server(default)] filter: DeviceFilter,
) -> Result<Page<DeviceRow>, AppError> {
    ssr::list_devices(filter).await
}

#[server(prefix = "/api", endpoint = "get_device")]
pub async fn get_device(id: i64) -> Result<DeviceDetail, AppError> {
    ssr::get_device(id).await
}

/// Every device as (id, name), for link and dependency selects.
#[server(prefix = "/api", endpoint = "list_device_names")]
pub async fn list_device_names() -> Result<Vec<(i64, String)>, AppError> {
    ssr::list_device_names().await
}

/// The sites and credential profiles the device form offers.
#[server(prefix = "/api", endpoint = "device_form_choices")]
pub async fn device_form_choices() -> Result<DeviceChoices, AppError> {
    ssr::device_form_choices().await
}

/// The device's blast radius and upstream paths.
#[server(prefix = "/api", endpoint = "get_device_impact")]
pub async fn get_device_impact(id: i64) -> Result<DeviceImpact, AppError> {
    ssr::device_impact(id).await
}

#[server(prefix = "/api", endpoint = "create_device")]
pub async fn create_device(form: DeviceForm) -> Result<(), AppError> {
    ssr::create_device(form).await
}

#[server(prefix = "/api", endpoint = "update_device")]
pub async fn update_device(id: i64, form: DeviceForm) -> Result<(), AppError> {
    ssr::update_device(id, form).await
}

#[server(prefix = "/api", endpoint = "delete_device")]
pub async fn delete_device(id: i64) -> Result<(), AppError> {
    ssr::delete_device(id).await
}

#[server(prefix = "/api", endpoint = "add_interface")]
pub async fn add_interface(
    device_id: i64,
    name: String,
    kind: String,
    speed_mbps: String,
    role: String,
) -> Result<(), AppError> {
    ssr::add_interface(device_id, name, kind, speed_mbps, role).await
}

/// Changes an interface's name, kind, speed and role; the interface must be the device's.
#[server(prefix = "/api", endpoint = "update_interface")]
pub async fn update_interface(
    device_id: i64,
    id: i64,
    form: InterfaceForm,
) -> Result<(), AppError> {
    ssr::update_interface(device_id, id, form).await
}

#[server(prefix = "/api", endpoint = "delete_interface")]
pub async fn delete_interface(device_id: i64, id: i64) -> Result<(), AppError> {
    ssr::delete_interface(device_id, id).await
}

/// Adds a probe that the agent serving the device's site runs (see `model::probe`).
#[server(prefix = "/api", endpoint = "add_probe")]
pub async fn add_probe(device_id: i64, form: ProbeForm) -> Result<(), AppError> {
    ssr::add_probe(device_id, form).await
}

#[server(prefix = "/api", endpoint = "delete_probe")]
pub async fn delete_probe(device_id: i64, id: i64) -> Result<(), AppError> {
    ssr::delete_probe(device_id, id).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use serde_json::json;

    use crate::api::server::{admin_caller, audit, staff_caller};
    use crate::db;
    use crate::error::AppError;
    use crate::model::device::{
        DeviceChoices, DeviceDetail, DeviceFilter, DeviceForm, DeviceId, DeviceImpact, DeviceRow,
        InterfaceForm, InterfaceId,
    };
    use crate::model::probe::{ProbeForm, ProbeId};
    use crate::model::site::SiteId;
    use crate::model::{page_number, Page, PER_PAGE};

    pub async fn list_devices(filter: DeviceFilter) -> Result<Page<DeviceRow>, AppError> {
        let (state, me) = staff_caller().await?;
        let query = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        if query.is_some_and(|q| q.chars().count() > 100) {
            return Err(AppError::invalid("q", "must be at most 100 characters"));
        }
        let role = match filter.role.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(r) => Some(r.parse()?),
        };
        let tag = filter
            .tag
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase);
        let enabled = match filter.status.as_deref() {
            Some("enabled") => Some(true),
            Some("disabled") => Some(false),
            _ => None,
        };
        let page = page_number(filter.page.map(|p| p.to_string()).as_deref());
        db::devices::list(
            &state.pool,
            me.tenant_id,
            &db::devices::Filter {
                query,
                site: filter.site.map(SiteId),
                role,
                tag: tag.as_deref(),
                enabled,
            },
            page,
            PER_PAGE,
        )
        .await
    }

    pub async fn get_device(id: i64) -> Result<DeviceDetail, AppError> {
        let (state, me) = staff_caller().await?;
        let mut conn = state.pool.acquire().await?;
        db::devices::get(&mut conn, me.tenant_id, DeviceId(id)).await
    }

    pub async fn list_device_names() -> Result<Vec<(i64, String)>, AppError> {
        let (state, me) = staff_caller().await?;
        db::devices::choices(&state.pool, me.tenant_id).await
    }

    pub async fn device_form_choices() -> Result<DeviceChoices, AppError> {
        let (state, me) = staff_caller().await?;
        let mut conn = state.pool.acquire().await?;
        Ok(DeviceChoices {
            sites: db::sites::choices(&mut *conn, me.tenant_id).await?,
            profiles: db::credentials::choices(&mut *conn, me.tenant_id).await?,
        })
    }

    /// How many upstream paths the device page lists.
    const PATHS_SHOWN: usize = 4;

    pub async fn device_impact(id: i64) -> Result<DeviceImpact, AppError> {
        let (state, me) = staff_caller().await?;
        let mut conn = state.pool.acquire().await?;
        // Also proves the device is the caller's: the graph holds only their devices.
        db::devices::name(&mut *conn, me.tenant_id, DeviceId(id)).await?;
        let graph = state.graphs.get(&mut conn, me.tenant_id).await?;
        let device = topology::DeviceId(id);
        let named =
            |obj: topology::Object, id: i64| (id, graph.name(obj).unwrap_or_default().to_owned());
        let down = graph.downstream(device).unwrap_or_default();
        let dependents = graph.dependents(device).unwrap_or_default();
        let mut upstream_paths: Vec<Vec<String>> = graph
            .upstream_paths(device, PATHS_SHOWN)
            .unwrap_or_default()
            .into_iter()
            .map(|hops| {
                hops.iter()
                    .rev()
                    .map(|hop| hop.device)
                    .chain([device])
                    .map(|d| graph.name(d).unwrap_or_default().to_owned())
                    .collect()
            })
            .collect();
        // Stable for the page and for tests, whatever order the links were loaded in.
        upstream_paths.sort();
        Ok(DeviceImpact {
            devices_down: down
                .devices
                .iter()
                .map(|d| named((*d).into(), d.0))
                .collect(),
            services_down: down
                .services
                .iter()
                .map(|s| named((*s).into(), s.0))
                .collect(),
            dependents: dependents.devices.len() + dependents.services.len(),
            upstream_paths,
        })
    }

    pub async fn create_device(form: DeviceForm) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let input = form.validate()?;
        let mut tx = state.pool.begin().await?;
        let id = db::devices::insert(&mut *tx, me.tenant_id, &input).await?;
        audit(
            &mut *tx,
            &me,
            "device.created",
            &input.name,
            json!({ "device_id": id.0, "site_id": input.site_id.0, "role": input.role.as_str(),
                    "mgmt_address": input.mgmt_address.to_string() }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/inventory/devices/{}", id.0));
        Ok(())
    }

    pub async fn update_device(id: i64, form: DeviceForm) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let input = form.validate()?;
        let mut tx = state.pool.begin().await?;
        let before = db::devices::name(&mut *tx, me.tenant_id, DeviceId(id)).await?;
        db::devices::update(&mut *tx, me.tenant_id, DeviceId(id), &input).await?;
        audit(
            &mut *tx,
            &me,
            "device.updated",
            &input.name,
            json!({ "device_id": id, "name_before": before, "site_id": input.site_id.0,
                    "role": input.role.as_str(), "enabled": input.enabled }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/inventory/devices/{id}"));
        Ok(())
    }

    pub async fn delete_device(id: i64) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let mut tx = state.pool.begin().await?;
        db::links::lock_topology(&mut tx, me.tenant_id).await?;
        let name = db::devices::name(&mut *tx, me.tenant_id, DeviceId(id)).await?;
        db::devices::delete(&mut *tx, me.tenant_id, DeviceId(id)).await?;
        audit(
            &mut *tx,
            &me,
            "device.deleted",
            &name,
            json!({ "device_id": id }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect("/inventory/devices");
        Ok(())
    }

    pub async fn add_interface(
        device_id: i64,
        name: String,
        kind: String,
        speed_mbps: String,
        role: String,
    ) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let input = InterfaceForm {
            name,
            kind,
            speed_mbps,
            role,
        }
        .validate()?;
        let mut tx = state.pool.begin().await?;
        let device = db::devices::name(&mut *tx, me.tenant_id, DeviceId(device_id)).await?;
        let id = db::devices::add_interface(
            &mut *tx,
            me.tenant_id,
            DeviceId(device_id),
            &input.name,
            input.kind,
            input.speed_mbps,
            input.role,
        )
        .await?;
        audit(
            &mut *tx,
            &me,
            "interface.created",
            &format!("{device} {}", input.name),
            json!({ "device_id": device_id, "interface_id": id.0 }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/inventory/devices/{device_id}"));
        Ok(())
    }

    pub async fn update_interface(
        device_id: i64,
        id: i64,
        form: InterfaceForm,
    ) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let input = form.validate()?;
        let mut tx = state.pool.begin().await?;
        // Links name interfaces: a rename must not interleave with a link being saved.
        db::links::lock_topology(&mut tx, me.tenant_id).await?;
        let device = db::devices::name(&mut *tx, me.tenant_id, DeviceId(device_id)).await?;
        let before = db::devices::update_interface(
            &mut *tx,
            me.tenant_id,
            DeviceId(device_id),
            InterfaceId(id),
            &input,
        )
        .await?;
        audit(
            &mut *tx,
            &me,
            "interface.updated",
            &format!("{device} {}", input.name),
            json!({ "device_id": device_id, "interface_id": id, "name_before": before,
                    "kind": input.kind.as_str(), "speed_mbps": input.speed_mbps,
                    "role": input.role.as_str() }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/inventory/devices/{device_id}"));
        Ok(())
    }

    pub async fn delete_interface(device_id: i64, id: i64) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let mut tx = state.pool.begin().await?;
        db::links::lock_topology(&mut tx, me.tenant_id).await?;
        let device = db::devices::name(&mut *tx, me.tenant_id, DeviceId(device_id)).await?;
        let name = db::devices::delete_interface(
            &mut *tx,
            me.tenant_id,
            DeviceId(device_id),
            InterfaceId(id),
        )
        .await?;
        audit(
            &mut *tx,
            &me,
            "interface.deleted",
            &format!("{device} {name}"),
            json!({ "device_id": device_id, "interface_id": id }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/inventory/devices/{device_id}"));
        Ok(())
    }

    pub async fn add_probe(device_id: i64, form: ProbeForm) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let input = form.validate()?;
        let mut tx = state.pool.begin().await?;
        let device = db::devices::name(&mut *tx, me.tenant_id, DeviceId(device_id)).await?;
        let id = db::probes::insert(
            &mut tx,
            me.tenant_id,
            DeviceId(device_id),
            &input,
            Some(me.id),
        )
        .await?;
        audit(
            &mut *tx,
            &me,
            "probe.created",
            &format!("{device} {}:{}", input.kind, input.target),
            json!({ "device_id": device_id, "probe_id": id.0, "kind": input.kind.as_str(),
                    "target": input.target, "interval_s": input.interval_s,
                    "timeout_ms": input.timeout_ms }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/inventory/devices/{device_id}"));
        Ok(())
    }

    pub async fn delete_probe(device_id: i64, id: i64) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let mut tx = state.pool.begin().await?;
        let device = db::devices::name(&mut *tx, me.tenant_id, DeviceId(device_id)).await?;
        let instance =
            db::probes::delete(&mut *tx, me.tenant_id, DeviceId(device_id), ProbeId(id)).await?;
        audit(
            &mut *tx,
            &me,
            "probe.deleted",
            &format!("{device} {instance}"),
            json!({ "device_id": device_id, "probe_id": id }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/inventory/devices/{device_id}"));
        Ok(())
    }
}
