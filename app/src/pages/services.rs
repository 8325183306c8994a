//! The services list: search, filters by customer and kind, pages, and (admins) the form to
//! add one.
//!
//! Filters and paging are a plain GET form and plain links (`?q=&customer=&kind=&page=`),
//! filtered by the server, so they work without JavaScript and every view has its own URL.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::services::{list_dependency_choices, list_services, CreateService};
use crate::components::fields::{error_field, AdminOnly};
use crate::components::notice::{ErrorNotice, ErrorPage};
use crate::components::pager::Pager;
use crate::components::service_form::ServiceFields;
use crate::model::service::{Choice, ServiceKind, ServiceRow};
use crate::model::{page_number, Page};

#[component]
pub fn ServicesPage() -> impl IntoView {
    let create = ServerAction::<CreateService>::new();
    let query = use_query_map();
    let param = move |k: &str| query.with(|m| m.get(k)).filter(|v| !v.is_empty());
    let q = move || param("q");
    let customer = move || param("customer").and_then(|c| c.parse::<i64>().ok());
    let kind = move || param("kind");
    let page = move || param("page").map(|p| page_number(Some(&p)));
    let services = Resource::new(
        move || (q(), customer(), kind(), page(), create.version().get()),
        |(q, customer, kind, page, _)| list_services(q, customer, kind, page),
    );
    let choices = Resource::new(|| (), |_| list_dependency_choices());
    let error = error_field(create.value().into());
    view! {
        <Title text="Services" />
        <h1>"Services"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match choices.await {
                    Ok(ch) => view! {
                        <Filters q=q().unwrap_or_default() customer=customer() kind=kind() customers=ch.customers />
                    }.into_any(),
                    Err(err) => view! { <ErrorPage err /> }.into_any(),
                }
            })}
        </Suspense>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match services.await {
                    Ok(list) => {
                        let params = vec![
                            ("q", q().unwrap_or_default()),
                            ("customer", customer().map(|c| c.to_string()).unwrap_or_default()),
                            ("kind", kind().unwrap_or_default()),
                        ];
                        view! { <ServiceTable list params /> }.into_any()
                    }
                    Err(err) => view! { <ErrorPage err /> }.into_any(),
                }
            })}
        </Suspense>
        // The admin-only form is decided after the choices have loaded, inside the Suspense: a
        // Suspense inside `AdminOnly` (a `Show`) hydrated in the wrong order now and then.
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                choices.await.ok().map(|ch| {
                    let ch = StoredValue::new(ch);
                    view! {
                        <AdminOnly>
                            <ActionForm action=create attr:class="card narrow" attr:id="create-service-form">
                                <h2>"Add a service"</h2>
                                <ServiceFields prefix="new" service=None customers=ch.with_value(|c| c.customers.clone())
                                    devices=ch.with_value(|c| c.devices.clone()) customer=customer() error />
                                {move || create.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                                <button type="submit" class="primary">"Add service"</button>
                            </ActionForm>
                        </AdminOnly>
                    }
                })
            })}
        </Suspense>
    }
}

/// The GET form of the filters; it shows the current ones.
#[component]
fn Filters(
    q: String,
    customer: Option<i64>,
    kind: Option<String>,
    customers: Vec<Choice>,
) -> impl IntoView {
    view! {
        <form method="get" class="filter" role="search" id="service-filters">
            <label for="service-search">"Search"</label>
            <input id="service-search" name="q" type="search" maxlength="100"
                placeholder="name, provider or customer" value=q />
            <label for="service-customer">"Customer"</label>
            <select id="service-customer" name="customer">
                <option value="" selected=customer.is_none()>"any"</option>
                {customers.into_iter().map(|c| view! {
                    <option value=c.id selected=Some(c.id) == customer>{c.label}</option>
                }).collect_view()}
            </select>
            <label for="service-kind">"Kind"</label>
            <select id="service-kind" name="kind">
                <option value="" selected=kind.is_none()>"any"</option>
                {ServiceKind::ALL.iter().map(|&k| view! {
                    <option value=k.as_str() selected=kind.as_deref() == Some(k.as_str())>{k.label()}</option>
                }).collect_view()}
            </select>
            <button type="submit">"Filter"</button>
        </form>
    }
}

#[component]
fn ServiceTable(list: Page<ServiceRow>, params: Vec<(&'static str, String)>) -> impl IntoView {
    let pages = list.pages();
    let noun = if list.total == 1 {
        "service"
    } else {
        "services"
    };
    view! {
        <p class="count" id="service-count">{format!("{} {noun}", list.total)}</p>
        <table class="grid" id="services-table">
            <thead><tr>
                <th>"Name"</th><th>"Kind"</th><th>"Customer / provider"</th>
                <th>"Access device"</th><th>"SLA target"</th><th>"Status"</th>
            </tr></thead>
            <tbody>
                {list.rows.into_iter().map(|s| {
                    let party = match (s.customer_id, s.customer_name) {
                        (Some(id), Some(name)) => view! {
                            <a href=format!("/inventory/customers/{}", id.0)>{name}</a>
                        }.into_any(),
                        _ => view! { <span>{s.provider}</span> }.into_any(),
                    };
                    let name = s.name.clone();
                    view! {
                        <tr data-name=name>
                            <td><a href=format!("/inventory/services/{}", s.id.0)>{s.name}</a></td>
                            <td>{s.kind.label()}</td>
                            <td>{party}</td>
                            <td>{s.access_device.unwrap_or_else(|| "—".into())}</td>
                            <td>{s.sla_target.map(|t| format!("{t} %")).unwrap_or_else(|| "customer's".into())}</td>
                            <td>{if s.enabled { "enabled" } else { "disabled" }}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <Pager path="/inventory/services" params page=list.page pages />
    }
}
