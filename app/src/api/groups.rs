//! Redundancy groups: list, create, delete, add and remove members. Staff read; admins change.
//! Every change runs under the tenant's topology lock and must leave a valid dependency graph
//! (e.g. `k` cannot exceed the members left); each is audited in its transaction.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::group::{GroupForm, GroupRow};

#[server(prefix = "/api", endpoint = "list_groups")]
pub async fn list_groups() -> Result<Vec<GroupRow>, AppError> {
    ssr::list_groups().await
}

#[server(prefix = "/api", endpoint = "create_group")]
pub async fn create_group(form: GroupForm) -> Result<(), AppError> {
    ssr::create_group(form).await
}

#[server(prefix = "/api", endpoint = "delete_group")]
pub async fn delete_group(id: i64) -> Result<(), AppError> {
    ssr::delete_group(id).await
}

/// `member` is `link:<id>` or `device:<id>`, as the member select sends it.
#[server(prefix = "/api", endpoint = "add_group_member")]
pub async fn add_group_member(group_id: i64, member: String) -> Result<(), AppError> {
    ssr::add_group_member(group_id, member).await
}

#[server(prefix = "/api", endpoint = "remove_group_member")]
pub async fn remove_group_member(group_id: i64, member_id: i64) -> Result<(), AppError> {
    ssr::remove_group_member(group_id, member_id).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use serde_json::json;
    use sqlx::PgConnection;

    use crate::api::server::{admin_caller, audit, staff_caller};
    use crate::db;
    use crate::error::AppError;
    use crate::model::group::{GroupForm, GroupId, GroupRow, Member};
    use crate::model::user::TenantId;

    pub async fn list_groups() -> Result<Vec<GroupRow>, AppError> {
        let (state, me) = staff_caller().await?;
        db::groups::list(&state.pool, me.tenant_id).await
    }

    /// The tenant's graph must still build; its message names what is wrong.
    async fn check_graph(
        conn: &mut PgConnection,
        tenant: TenantId,
        field: &str,
    ) -> Result<(), AppError> {
        match db::topology::load(conn, tenant).await {
            Ok(_) => Ok(()),
            Err(AppError::Invalid { reason, .. }) => Err(AppError::invalid(field, reason)),
            Err(other) => Err(other),
        }
    }

    pub async fn create_group(form: GroupForm) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let input = form.validate()?;
        let mut tx = state.pool.begin().await?;
        let id = db::groups::insert(&mut *tx, me.tenant_id, &input).await?;
        audit(
            &mut *tx,
            &me,
            "group.created",
            &input.name,
            json!({ "group_id": id.0, "rule": input.rule.as_str(), "k": input.k }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect("/inventory/groups");
        Ok(())
    }

    pub async fn delete_group(id: i64) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let mut tx = state.pool.begin().await?;
        db::links::lock_topology(&mut tx, me.tenant_id).await?;
        let name = db::groups::name(&mut *tx, me.tenant_id, GroupId(id)).await?;
        db::groups::delete(&mut *tx, me.tenant_id, GroupId(id)).await?;
        audit(
            &mut *tx,
            &me,
            "group.deleted",
            &name,
            json!({ "group_id": id }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect("/inventory/groups");
        Ok(())
    }

    pub async fn add_group_member(group_id: i64, member: String) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let bad = || AppError::invalid("member", "choose a link or a device");
        let member = match member.split_once(':') {
            Some(("link", id)) => Member::Link(id.parse().map_err(|_| bad())?),
            Some(("device", id)) => Member::Device(id.parse().map_err(|_| bad())?),
            _ => return Err(bad()),
        };
        let mut tx = state.pool.begin().await?;
        db::links::lock_topology(&mut tx, me.tenant_id).await?;
        let name = db::groups::name(&mut *tx, me.tenant_id, GroupId(group_id)).await?;
        db::groups::add_member(&mut *tx, me.tenant_id, GroupId(group_id), member)
            .await
            .map_err(|err| match err {
                AppError::Invalid { reason, .. } | AppError::Conflict { reason, .. } => {
                    AppError::invalid("member", reason)
                }
                other => other,
            })?;
        check_graph(&mut tx, me.tenant_id, "member").await?;
        audit(
            &mut *tx,
            &me,
            "group.member_added",
            &name,
            json!({ "group_id": group_id, "member": format!("{member:?}") }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect("/inventory/groups");
        Ok(())
    }

    pub async fn remove_group_member(group_id: i64, member_id: i64) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let mut tx = state.pool.begin().await?;
        db::links::lock_topology(&mut tx, me.tenant_id).await?;
        let name = db::groups::name(&mut *tx, me.tenant_id, GroupId(group_id)).await?;
        db::groups::remove_member(&mut *tx, me.tenant_id, GroupId(group_id), member_id).await?;
        check_graph(&mut tx, me.tenant_id, "member").await?;
        audit(
            &mut *tx,
            &me,
            "group.member_removed",
            &name,
            json!({ "group_id": group_id, "member_id": member_id }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect("/inventory/groups");
        Ok(())
    }
}
