//! Links: create and edit (naming interfaces, which are created when missing) and delete. A link
//! that would make the upstream dependencies circular is refused with both devices named.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::link::LinkForm;

/// Creates a link, then shows the page of the device named in `back` (one of its ends).
#[server(prefix = "/api", endpoint = "create_link")]
pub async fn create_link(form: LinkForm, back: Option<i64>) -> Result<(), AppError> {
    ssr::create_link(form, back).await
}

/// Changes a link (its ends, kind, direction, capacity), then shows the page of the device named
/// in `back`.
#[server(prefix = "/api", endpoint = "update_link")]
pub async fn update_link(id: i64, form: LinkForm, back: Option<i64>) -> Result<(), AppError> {
    ssr::update_link(id, form, back).await
}

#[server(prefix = "/api", endpoint = "delete_link")]
pub async fn delete_link(id: i64, back: Option<i64>) -> Result<(), AppError> {
    ssr::delete_link(id, back).await
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use serde_json::json;
    use sqlx::PgConnection;

    use crate::api::server::{admin_caller, audit};
    use crate::db;
    use crate::error::AppError;
    use crate::model::link::{LinkForm, LinkId, LinkInput};
    use crate::model::user::TenantId;

    pub async fn create_link(form: LinkForm, back: Option<i64>) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let input = form.validate()?;
        let mut tx = state.pool.begin().await?;
        db::links::lock_topology(&mut tx, me.tenant_id).await?;
        // Both ends must be the caller's devices; another tenant's id reads as missing.
        let a_name = db::devices::name(&mut *tx, me.tenant_id, input.a_device)
            .await
            .map_err(|err| missing_as("a_device_id", err))?;
        let b_name = db::devices::name(&mut *tx, me.tenant_id, input.b_device)
            .await
            .map_err(|err| missing_as("b_device_id", err))?;
        refuse_cycle(&mut tx, me.tenant_id, &input, None, &a_name, &b_name).await?;
        let (a_interface, b_interface) = link_ends(&mut tx, me.tenant_id, &input).await?;
        let id =
            db::links::insert(&mut *tx, me.tenant_id, &input, a_interface, b_interface).await?;
        audit(
            &mut *tx,
            &me,
            "link.created",
            &format!("{a_name} → {b_name}"),
            json!({ "link_id": id.0, "a_device_id": input.a_device.0, "b_device_id": input.b_device.0,
                    "kind": input.kind.as_str(), "upstream": input.upstream }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&back_to(back.unwrap_or(input.b_device.0)));
        Ok(())
    }

    pub async fn update_link(id: i64, form: LinkForm, back: Option<i64>) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let input = form.validate()?;
        let mut tx = state.pool.begin().await?;
        db::links::lock_topology(&mut tx, me.tenant_id).await?;
        let before = db::links::get(&mut tx, me.tenant_id, LinkId(id)).await?;
        let a_name = db::devices::name(&mut *tx, me.tenant_id, input.a_device)
            .await
            .map_err(|err| missing_as("a_device_id", err))?;
        let b_name = db::devices::name(&mut *tx, me.tenant_id, input.b_device)
            .await
            .map_err(|err| missing_as("b_device_id", err))?;
        // The link's old ends are left out of the walk: they are what is being replaced.
        refuse_cycle(
            &mut tx,
            me.tenant_id,
            &input,
            Some(LinkId(id)),
            &a_name,
            &b_name,
        )
        .await?;
        let (a_interface, b_interface) = link_ends(&mut tx, me.tenant_id, &input).await?;
        db::links::update(
            &mut *tx,
            me.tenant_id,
            LinkId(id),
            &input,
            a_interface,
            b_interface,
        )
        .await?;
        audit(
            &mut *tx,
            &me,
            "link.updated",
            &format!("{a_name} → {b_name}"),
            json!({ "link_id": id, "before": before.label(), "a_device_id": input.a_device.0,
                    "b_device_id": input.b_device.0, "kind": input.kind.as_str(),
                    "upstream": input.upstream, "capacity_mbps": input.capacity_mbps }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&back_to(back.unwrap_or(input.b_device.0)));
        Ok(())
    }

    pub async fn delete_link(id: i64, back: Option<i64>) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let mut tx = state.pool.begin().await?;
        db::links::lock_topology(&mut tx, me.tenant_id).await?;
        let link = db::links::delete(&mut tx, me.tenant_id, LinkId(id)).await?;
        audit(
            &mut *tx,
            &me,
            "link.deleted",
            &link.label(),
            json!({ "link_id": id, "kind": link.kind.as_str() }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&back_to(back.unwrap_or(link.b_device.0)));
        Ok(())
    }

    /// Refuses an upstream link whose `b` end is already upstream of its `a` end (leaving out the
    /// link `except` that is being edited), naming both devices. The caller holds the topology
    /// lock.
    pub(crate) async fn refuse_cycle(
        conn: &mut PgConnection,
        tenant: TenantId,
        input: &LinkInput,
        except: Option<LinkId>,
        a_name: &str,
        b_name: &str,
    ) -> Result<(), AppError> {
        if input.upstream
            && db::links::depends_on(&mut *conn, tenant, input.a_device, input.b_device, except)
                .await?
        {
            return Err(AppError::invalid(
                "b_device_id",
                format!(
                    "{b_name} cannot depend on {a_name}: {a_name} already reaches the network through \
                     {b_name}, so the dependencies would form a cycle (untick \"upstream\" for a peer link)"
                ),
            ));
        }
        Ok(())
    }

    /// The link's interfaces as ids, each found by name on its device or created there.
    pub(crate) async fn link_ends(
        conn: &mut PgConnection,
        tenant: TenantId,
        input: &LinkInput,
    ) -> Result<(Option<i64>, Option<i64>), AppError> {
        let a = db::devices::link_end(
            &mut *conn,
            tenant,
            input.a_device,
            input.a_interface.as_deref(),
        )
        .await?;
        let b = db::devices::link_end(
            &mut *conn,
            tenant,
            input.b_device,
            input.b_interface.as_deref(),
        )
        .await?;
        Ok((a, b))
    }

    /// A device that is not the caller's is "no such device" on the form field; any other
    /// failure stays what it was.
    fn missing_as(field: &str, err: AppError) -> AppError {
        match err {
            AppError::NotFound => AppError::invalid(field, "no such device"),
            other => other,
        }
    }

    fn back_to(device: i64) -> String {
        format!("/inventory/devices/{device}")
    }
}
