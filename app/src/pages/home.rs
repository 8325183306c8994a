//! The home page: the tenant at a glance.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::home::get_tenant_summary;
use crate::components::notice::ErrorPage;
use crate::error::AppError;
use crate::model::summary::TenantSummary;

#[component]
pub fn HomePage() -> impl IntoView {
    let summary = Resource::new(|| (), |_| get_tenant_summary());
    view! {
        <Title text="Home" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match summary.await {
                    Ok(s) => view! { <Summary s /> }.into_any(),
                    Err(AppError::Forbidden) => view! { <CustomerHome /> }.into_any(),
                    Err(err) => view! { <ErrorPage err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Summary(s: TenantSummary) -> impl IntoView {
    let tile = |label: &'static str, value: i64, id: &'static str| {
        view! {
            <div class="tile" id=id>
                <div class="value">{value}</div>
                <div class="label">{label}</div>
            </div>
        }
    };
    view! {
        <h1>{s.tenant_name.clone()}</h1>
        <section class="tiles" aria-label="Tenant summary">
            {tile("users", s.users_total, "tile-users")}
            {tile("active users", s.users_active, "tile-active")}
            {tile("admins", s.admins, "tile-admins")}
            {tile("operators", s.operators, "tile-operators")}
            {tile("viewers", s.viewers, "tile-viewers")}
            {tile("customer logins", s.customers, "tile-customers")}
            {tile("audit events, 24 h", s.audit_events_24h, "tile-audit")}
            {tile("failed sign-ins, 24 h", s.failed_logins_24h, "tile-failed")}
        </section>
        <p class="hint">
            "Devices, sites and live telemetry appear here once inventory and collection are set up."
        </p>
    }
}

/// Customers have no NOC view; their portal (services, impact) is bound to a customer record.
#[component]
fn CustomerHome() -> impl IntoView {
    view! {
        <h1>"Your services"</h1>
        <p class="hint">"No services are linked to your account yet. Your provider links them."</p>
    }
}
