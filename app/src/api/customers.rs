//! Customers: list (search, pages), read, create, edit, delete. Staff read; admins change. Every
//! change commits together with its audit row.

// One argument per form field, so that the forms post flat fields (as `users` does). The
// `#[server]` macro forwards lint attributes to a function's server build but not to its
// browser stub, so this cannot be said per function.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::customer::{Customer, CustomerRow};
use crate::model::Page;

/// One page of the tenant's customers whose name or account id contains `q`.
#[server(prefix = "/api", endpoint = "list_customers")]
pub async fn list_customers(
    q: Option<String>,
    page: Option<i64>,
) -> Result<Page<CustomerRow>, AppError> {
    ssr::list_customers(q, page).await
}

#[server(prefix = "/api", endpoint = "get_customer")]
pub async fn get_customer(id: i64) -> Result<Customer, AppError> {
    ssr::get_customer(id).await
}

/// `sla_target` is a percentage as text ("99.9"); empty means none. An empty `timezone` is UTC.
#[server(prefix = "/api", endpoint = "create_customer")]
pub async fn create_customer(
    name: String,
    account_id: String,
    contact_name: String,
    contact_email: String,
    contact_phone: String,
    timezone: String,
    sla_target: String,
) -> Result<(), AppError> {
    ssr::create_customer(ssr::Fields {
        name,
        account_id,
        contact_name,
        contact_email,
        contact_phone,
        timezone,
        sla_target,
    })
    .await
}

/// Replaces every field of the customer, with the same rules as `create_customer`.
#[server(prefix = "/api", endpoint = "update_customer")]
pub async fn update_customer(
    id: i64,
    name: String,
    account_id: String,
    contact_name: String,
    contact_email: String,
    contact_phone: String,
    timezone: String,
    sla_target: String,
) -> Result<(), AppError> {
    ssr::update_customer(
        id,
        ssr::Fields {
            name,
            account_id,
            contact_name,
            contact_email,
            contact_phone,
            timezone,
            sla_target,
        },
    )
    .await
}

/// Deletes a customer that has no services (otherwise `Conflict`).
#[server(prefix = "/api", endpoint = "delete_customer")]
pub async fn delete_customer(id: i64) -> Result<(), AppError> {
    ssr::delete_customer(id).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use serde_json::json;

    use crate::api::server::{admin_caller, audit, staff_caller};
    use crate::db;
    use crate::error::AppError;
    use crate::model::customer::{
        unknown_timezone, Customer, CustomerForm, CustomerId, CustomerInput, CustomerRow,
    };
    use crate::model::{page_number, Page};

    /// The form fields as posted.
    pub struct Fields {
        pub name: String,
        pub account_id: String,
        pub contact_name: String,
        pub contact_email: String,
        pub contact_phone: String,
        pub timezone: String,
        pub sla_target: String,
    }

    /// Validates the fields, then asks the database whether the time zone exists.
    async fn checked(pool: &sqlx::PgPool, f: &Fields) -> Result<CustomerInput, AppError> {
        let input = CustomerForm {
            name: &f.name,
            account_id: &f.account_id,
            contact_name: &f.contact_name,
            contact_email: &f.contact_email,
            contact_phone: &f.contact_phone,
            timezone: &f.timezone,
            sla_target: &f.sla_target,
        }
        .validate()?;
        if !db::timezone_exists(pool, &input.timezone).await? {
            return Err(unknown_timezone("timezone"));
        }
        Ok(input)
    }

    pub async fn list_customers(
        q: Option<String>,
        page: Option<i64>,
    ) -> Result<Page<CustomerRow>, AppError> {
        let (state, me) = staff_caller().await?;
        if q.as_ref().is_some_and(|q| q.chars().count() > 100) {
            return Err(AppError::invalid("q", "must be at most 100 characters"));
        }
        let page = page_number(page.map(|p| p.to_string()).as_deref());
        let mut conn = state.pool.acquire().await?;
        db::customers::list(&mut conn, me.tenant_id, q.as_deref(), page).await
    }

    pub async fn get_customer(id: i64) -> Result<Customer, AppError> {
        let (state, me) = staff_caller().await?;
        db::customers::get(&state.pool, me.tenant_id, CustomerId(id)).await
    }

    pub async fn create_customer(fields: Fields) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let input = checked(&state.pool, &fields).await?;
        let mut tx = state.pool.begin().await?;
        let id = db::customers::insert(&mut *tx, me.tenant_id, &input).await?;
        audit(
            &mut *tx,
            &me,
            "customer.created",
            &input.name,
            json!({ "customer_id": id.0, "account_id": input.account_id }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/inventory/customers/{}", id.0));
        Ok(())
    }

    pub async fn update_customer(id: i64, fields: Fields) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let input = checked(&state.pool, &fields).await?;
        let mut tx = state.pool.begin().await?;
        let before = db::customers::get(&mut *tx, me.tenant_id, CustomerId(id)).await?;
        db::customers::update(&mut *tx, me.tenant_id, CustomerId(id), &input).await?;
        audit(
            &mut *tx,
            &me,
            "customer.updated",
            &input.name,
            json!({
                "customer_id": id,
                "before": { "name": before.name, "account_id": before.account_id,
                            "sla_target": before.sla_target.map(|t| t.to_string()) },
                "after": { "name": input.name, "account_id": input.account_id,
                           "sla_target": input.sla_target.map(|t| t.to_string()) },
            }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/inventory/customers/{id}"));
        Ok(())
    }

    pub async fn delete_customer(id: i64) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let mut tx = state.pool.begin().await?;
        let name = db::customers::delete(&mut tx, me.tenant_id, CustomerId(id)).await?;
        audit(
            &mut *tx,
            &me,
            "customer.deleted",
            &name,
            json!({ "customer_id": id }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect("/inventory/customers");
        Ok(())
    }
}
