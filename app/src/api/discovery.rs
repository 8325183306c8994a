//! The discovery review: links proposed from the routers' neighbour tables. Staff see them;
//! admins and operators accept one (a new link, `discovered`, through the manual link's
//! validation and cycle check), accept one in place of a manual link that differs (only by
//! this explicit action), or dismiss one (hidden until the neighbour's data changes). Each
//! action is audited in its transaction.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::discovery::Discovery;

#[server(prefix = "/api", endpoint = "list_discovery")]
pub async fn list_discovery() -> Result<Discovery, AppError> {
    ssr::list_discovery().await
}

/// Creates the link of a `new` proposal (`key`: one of its neighbour rows).
#[server(prefix = "/api", endpoint = "accept_discovered_link")]
pub async fn accept_discovered_link(key: i64) -> Result<(), AppError> {
    ssr::accept(key).await
}

/// Gives the link `link` the interfaces of a `differs` proposal and marks it discovered; `link`
/// must still be the one the proposal showed.
#[server(prefix = "/api", endpoint = "replace_with_discovered_link")]
pub async fn replace_with_discovered_link(key: i64, link: i64) -> Result<(), AppError> {
    ssr::replace(key, link).await
}

/// Hides a proposal until one of its neighbours' data changes.
#[server(prefix = "/api", endpoint = "dismiss_discovered_link")]
pub async fn dismiss_discovered_link(key: i64) -> Result<(), AppError> {
    ssr::dismiss(key).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use serde_json::json;
    use sqlx::PgConnection;

    use crate::api::links::ssr::{link_ends, refuse_cycle};
    use crate::api::server::{audit, operator_caller, staff_caller};
    use crate::db;
    use crate::error::AppError;
    use crate::model::discovery::{propose, Discovery, End, Proposal, ProposalState};
    use crate::model::link::{LinkId, LinkInput};
    use crate::model::user::{Role, TenantId};

    const BACK: &str = "/inventory/discovery";

    /// Every proposal of the tenant, dismissed ones included.
    async fn proposals(
        conn: &mut PgConnection,
        tenant: TenantId,
    ) -> Result<Vec<Proposal>, AppError> {
        let neighbors = db::discovery::neighbors(&mut *conn, tenant).await?;
        let devices = db::discovery::devices(&mut *conn, tenant).await?;
        let links = db::discovery::links(&mut *conn, tenant).await?;
        Ok(propose(&neighbors, &devices, &links))
    }

    /// The proposal holding neighbour row `key`; `NotFound` for another tenant's row, a row
    /// that aged out, or one that proposes nothing.
    async fn find(
        conn: &mut PgConnection,
        tenant: TenantId,
        key: i64,
    ) -> Result<Proposal, AppError> {
        proposals(conn, tenant)
            .await?
            .into_iter()
            .find(|p| p.neighbors.contains(&key))
            .ok_or(AppError::NotFound)
    }

    pub async fn list_discovery() -> Result<Discovery, AppError> {
        let (state, me) = staff_caller().await?;
        let mut conn = state.pool.acquire().await?;
        let (dismissed, proposals): (Vec<Proposal>, Vec<Proposal>) =
            proposals(&mut conn, me.tenant_id)
                .await?
                .into_iter()
                .partition(|p| p.dismissed);
        Ok(Discovery {
            proposals,
            dismissed: dismissed.len(),
            can_review: matches!(me.role, Role::Admin | Role::Operator),
        })
    }

    fn label(p: &Proposal) -> String {
        let end = |e: &End| match &e.interface {
            Some(i) => format!("{} {i}", e.name),
            None => e.name.clone(),
        };
        let arrow = if p.upstream { "→" } else { "↔" };
        format!("{} {arrow} {}", end(&p.a), end(&p.b))
    }

    pub async fn accept(key: i64) -> Result<(), AppError> {
        let (state, me) = operator_caller().await?;
        let mut tx = state.pool.begin().await?;
        db::links::lock_topology(&mut tx, me.tenant_id).await?;
        let p = find(&mut tx, me.tenant_id, key).await?;
        let (Some(a_device), Some(b_device)) = (p.a.device, p.b.device) else {
            return Err(AppError::invalid(
                "key",
                "the neighbour is not in the inventory; add the device first",
            ));
        };
        match p.state {
            ProposalState::New => {}
            ProposalState::Matches => {
                return Err(AppError::conflict(
                    "key",
                    "the inventory has this link already",
                ))
            }
            _ => {
                return Err(AppError::conflict(
                    "key",
                    "a link between these devices exists at other interfaces; replace it instead",
                ))
            }
        }
        let input = LinkInput {
            a_device,
            a_interface: p.a.interface.clone(),
            b_device,
            b_interface: p.b.interface.clone(),
            kind: p.kind,
            upstream: p.upstream,
            capacity_mbps: None,
        };
        refuse_cycle(&mut tx, me.tenant_id, &input, None, &p.a.name, &p.b.name).await?;
        let (a_interface, b_interface) = link_ends(&mut tx, me.tenant_id, &input).await?;
        let id =
            db::links::insert(&mut *tx, me.tenant_id, &input, a_interface, b_interface).await?;
        db::discovery::mark_link_discovered(&mut *tx, me.tenant_id, id).await?;
        audit(
            &mut *tx,
            &me,
            "discovery.accepted",
            &label(&p),
            json!({ "link_id": id.0, "neighbor_ids": p.neighbors, "kind": p.kind.as_str(),
                    "upstream": p.upstream }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(BACK);
        Ok(())
    }

    pub async fn replace(key: i64, link: i64) -> Result<(), AppError> {
        let (state, me) = operator_caller().await?;
        let mut tx = state.pool.begin().await?;
        db::links::lock_topology(&mut tx, me.tenant_id).await?;
        let p = find(&mut tx, me.tenant_id, key).await?;
        if p.state != ProposalState::Differs || p.link.as_ref().map(|l| l.0) != Some(LinkId(link)) {
            return Err(AppError::conflict(
                "link",
                "the proposal changed since it was shown; look at it again",
            ));
        }
        let before = db::links::get(&mut tx, me.tenant_id, LinkId(link)).await?;
        // The link keeps its direction, kind and capacity; its interfaces become the ones the
        // routers name (an end they do not name keeps its interface).
        let iface_at = |device, old: &Option<String>| {
            [&p.a, &p.b]
                .iter()
                .find(|e| e.device == Some(device))
                .and_then(|e| e.interface.clone())
                .or_else(|| old.clone())
        };
        let input = LinkInput {
            a_device: before.a_device,
            a_interface: iface_at(before.a_device, &before.a_interface),
            b_device: before.b_device,
            b_interface: iface_at(before.b_device, &before.b_interface),
            kind: before.kind,
            upstream: before.upstream,
            capacity_mbps: before.capacity_mbps,
        };
        refuse_cycle(
            &mut tx,
            me.tenant_id,
            &input,
            Some(LinkId(link)),
            &before.a_device_name,
            &before.b_device_name,
        )
        .await?;
        let (a_interface, b_interface) = link_ends(&mut tx, me.tenant_id, &input).await?;
        db::links::update(
            &mut *tx,
            me.tenant_id,
            LinkId(link),
            &input,
            a_interface,
            b_interface,
        )
        .await?;
        db::discovery::mark_link_discovered(&mut *tx, me.tenant_id, LinkId(link)).await?;
        audit(
            &mut *tx,
            &me,
            "discovery.replaced",
            &label(&p),
            json!({ "link_id": link, "before": before.label(), "neighbor_ids": p.neighbors,
                    "a_interface": input.a_interface, "b_interface": input.b_interface }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(BACK);
        Ok(())
    }

    pub async fn dismiss(key: i64) -> Result<(), AppError> {
        let (state, me) = operator_caller().await?;
        let mut tx = state.pool.begin().await?;
        let p = find(&mut tx, me.tenant_id, key).await?;
        db::discovery::dismiss(&mut *tx, me.tenant_id, &p.neighbors).await?;
        audit(
            &mut *tx,
            &me,
            "discovery.dismissed",
            &label(&p),
            json!({ "neighbor_ids": p.neighbors, "state": p.state.as_str() }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(BACK);
        Ok(())
    }
}
