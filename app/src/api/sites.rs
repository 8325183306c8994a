//! Sites: list, read, create, edit, delete, and the site's topology drawing. Staff read; admins
//! change. Every change is audited in its own transaction.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::site::{SiteForm, SiteRow};
use crate::model::Page;

#[server(prefix = "/api", endpoint = "list_sites")]
pub async fn list_sites(q: Option<String>, page: Option<i64>) -> Result<Page<SiteRow>, AppError> {
    ssr::list_sites(q, page).await
}

#[server(prefix = "/api", endpoint = "get_site")]
pub async fn get_site(id: i64) -> Result<SiteRow, AppError> {
    ssr::get_site(id).await
}

/// Every site as (id, label), for the device form's select.
#[server(prefix = "/api", endpoint = "site_choices")]
pub async fn site_choices() -> Result<Vec<(i64, String)>, AppError> {
    ssr::site_choices().await
}

#[server(prefix = "/api", endpoint = "create_site")]
pub async fn create_site(form: SiteForm) -> Result<(), AppError> {
    ssr::create_site(form).await
}

#[server(prefix = "/api", endpoint = "update_site")]
pub async fn update_site(id: i64, form: SiteForm) -> Result<(), AppError> {
    ssr::update_site(id, form).await
}

#[server(prefix = "/api", endpoint = "delete_site")]
pub async fn delete_site(id: i64) -> Result<(), AppError> {
    ssr::delete_site(id).await
}

/// The site's devices and links as an SVG drawing, rendered on the server.
#[server(prefix = "/api", endpoint = "site_topology")]
pub async fn site_topology(id: i64) -> Result<String, AppError> {
    ssr::site_topology(id).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use serde_json::json;

    use crate::api::server::{admin_caller, audit, staff_caller};
    use crate::charts::topology;
    use crate::db;
    use crate::error::AppError;
    use crate::model::site::{SiteForm, SiteId, SiteInput, SiteRow};
    use crate::model::{page_number, Page};

    pub async fn list_sites(
        q: Option<String>,
        page: Option<i64>,
    ) -> Result<Page<SiteRow>, AppError> {
        let (state, me) = staff_caller().await?;
        if q.as_ref().is_some_and(|q| q.chars().count() > 100) {
            return Err(AppError::invalid("q", "must be at most 100 characters"));
        }
        let page = page_number(page.map(|p| p.to_string()).as_deref());
        db::sites::list(&state.pool, me.tenant_id, q.as_deref(), page).await
    }

    pub async fn get_site(id: i64) -> Result<SiteRow, AppError> {
        let (state, me) = staff_caller().await?;
        db::sites::get(&state.pool, me.tenant_id, SiteId(id)).await
    }

    pub async fn site_choices() -> Result<Vec<(i64, String)>, AppError> {
        let (state, me) = staff_caller().await?;
        db::sites::choices(&state.pool, me.tenant_id).await
    }

    async fn checked(pool: &sqlx::PgPool, form: &SiteForm) -> Result<SiteInput, AppError> {
        let input = form.validate()?;
        if !db::timezone_exists(pool, &input.timezone).await? {
            return Err(AppError::invalid(
                "timezone",
                "must be an IANA time zone such as Europe/Vienna or UTC",
            ));
        }
        Ok(input)
    }

    pub async fn create_site(form: SiteForm) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let input = checked(&state.pool, &form).await?;
        let mut tx = state.pool.begin().await?;
        let id = db::sites::insert(&mut *tx, me.tenant_id, &input).await?;
        audit(
            &mut *tx,
            &me,
            "site.created",
            &input.code,
            json!({ "site_id": id.0, "name": input.name }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/inventory/sites/{}", id.0));
        Ok(())
    }

    pub async fn update_site(id: i64, form: SiteForm) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let input = checked(&state.pool, &form).await?;
        let mut tx = state.pool.begin().await?;
        let before = db::sites::get(&mut *tx, me.tenant_id, SiteId(id)).await?;
        db::sites::update(&mut *tx, me.tenant_id, SiteId(id), &input).await?;
        audit(
            &mut *tx,
            &me,
            "site.updated",
            &input.code,
            json!({ "site_id": id, "before": { "name": before.name, "code": before.code },
                    "after": { "name": input.name, "code": input.code } }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/inventory/sites/{id}"));
        Ok(())
    }

    pub async fn delete_site(id: i64) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let mut tx = state.pool.begin().await?;
        let site = db::sites::get(&mut *tx, me.tenant_id, SiteId(id)).await?;
        db::sites::delete(&mut *tx, me.tenant_id, SiteId(id)).await?;
        audit(
            &mut *tx,
            &me,
            "site.deleted",
            &site.code,
            json!({ "site_id": id, "name": site.name }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect("/inventory/sites");
        Ok(())
    }

    pub async fn site_topology(id: i64) -> Result<String, AppError> {
        let (state, me) = staff_caller().await?;
        let mut conn = state.pool.acquire().await?;
        let site = db::sites::get(&mut *conn, me.tenant_id, SiteId(id)).await?;
        let devices = db::devices::list(
            &mut *conn,
            me.tenant_id,
            &db::devices::Filter {
                site: Some(site.id),
                ..Default::default()
            },
            1,
            topology::MAX_DEVICES,
        )
        .await?;
        let links = db::links::for_site(&mut *conn, me.tenant_id, site.id).await?;
        Ok(topology::render(&site, &devices.rows, &links))
    }
}
