//! One customer: its fields, its services, and (admins) the edit and delete forms.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::customers::{get_customer, DeleteCustomer, UpdateCustomer};
use crate::api::services::list_services;
use crate::components::customer_form::CustomerFields;
use crate::components::fields::{error_field, AdminOnly};
use crate::components::notice::{ErrorNotice, ErrorPage};
use crate::error::AppError;
use crate::model::customer::Customer;
use crate::model::service::ServiceRow;
use crate::model::Page;

#[component]
pub fn CustomerPage() -> impl IntoView {
    let params = use_params_map();
    let update = ServerAction::<UpdateCustomer>::new();
    let delete = ServerAction::<DeleteCustomer>::new();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let data = Resource::new(
        move || (id(), update.version().get()),
        |(id, _)| async move {
            let Some(id) = id else {
                return Err(AppError::NotFound);
            };
            let customer = get_customer(id).await?;
            let services = list_services(None, Some(id), None, None).await?;
            Ok((customer, services))
        },
    );
    view! {
        <Title text="Customer" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((c, services)) => view! { <CustomerDetail c services update delete /> }.into_any(),
                    Err(err) => view! { <ErrorPage err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CustomerDetail(
    c: Customer,
    services: Page<ServiceRow>,
    update: ServerAction<UpdateCustomer>,
    delete: ServerAction<DeleteCustomer>,
) -> impl IntoView {
    let error = error_field(update.value().into());
    let id = c.id.0;
    let sla = c
        .sla_target
        .map(|t| format!("{t} %"))
        .unwrap_or_else(|| "none".into());
    let contact = [
        c.contact_name.clone(),
        c.contact_email.clone(),
        c.contact_phone.clone(),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(" · ");
    let more = (services.total > services.rows.len() as i64).then(|| {
        view! {
            <p><a href=format!("/inventory/services?customer={id}")>
                {format!("All {} services", services.total)}
            </a></p>
        }
    });
    // Copy, so that the admin-only children (called again on every sign-in change) can use it.
    let customer = StoredValue::new(c.clone());
    view! {
        <h1 id="customer-name">{c.name.clone()}</h1>
        <dl class="fields">
            <dt>"Account id"</dt><dd class="mono" id="customer-account">{c.account_id.clone()}</dd>
            <dt>"Contact"</dt><dd>{if contact.is_empty() { "—".to_owned() } else { contact }}</dd>
            <dt>"Time zone"</dt><dd id="customer-timezone">{c.timezone.clone()}</dd>
            <dt>"SLA target"</dt><dd id="customer-sla">{sla}</dd>
            <dt>"Updated (UTC)"</dt><dd class="mono">{c.updated_at.clone()}</dd>
        </dl>
        <h2>"Services"</h2>
        <table class="grid" id="customer-services">
            <thead><tr><th>"Name"</th><th>"Kind"</th><th>"Access device"</th><th>"SLA target"</th></tr></thead>
            <tbody>
                {services.rows.into_iter().map(|s| view! {
                    <tr>
                        <td><a href=format!("/inventory/services/{}", s.id.0)>{s.name}</a></td>
                        <td>{s.kind.label()}</td>
                        <td>{s.access_device.unwrap_or_else(|| "—".into())}</td>
                        <td>{s.sla_target.map(|t| format!("{t} %")).unwrap_or_else(|| "customer's".into())}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        {more}
        <AdminOnly>
            <p><a href=format!("/inventory/services?customer={id}")>"Add a service for this customer"</a></p>
            <div class="cards">
                <ActionForm action=update attr:class="card" attr:id="edit-customer-form">
                    <h2>"Edit"</h2>
                    <input type="hidden" name="id" value=id />
                    <CustomerFields prefix="edit" customer=Some(customer.get_value()) error />
                    {move || update.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                    <button type="submit" class="primary">"Save"</button>
                </ActionForm>
                <ActionForm action=delete attr:class="card" attr:id="delete-customer-form">
                    <h2>"Delete"</h2>
                    <p class="hint">"Only a customer without services can be deleted."</p>
                    <input type="hidden" name="id" value=id />
                    {move || delete.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                    <button type="submit" class="danger">"Delete customer"</button>
                </ActionForm>
            </div>
        </AdminOnly>
        <p><a href="/inventory/customers">"All customers"</a></p>
    }
}
