//! The customers list: search by name or account id, pages, and (admins) the form to add one.
//!
//! Search and paging are a plain GET form and plain links (`?q=&page=`), filtered by the
//! server, so they work without JavaScript and every result page has its own URL.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::customers::{list_customers, CreateCustomer};
use crate::components::customer_form::CustomerFields;
use crate::components::fields::{error_field, AdminOnly};
use crate::components::notice::{ErrorNotice, ErrorPage};
use crate::components::pager::Pager;
use crate::model::customer::CustomerRow;
use crate::model::{page_number, Page};

#[component]
pub fn CustomersPage() -> impl IntoView {
    let create = ServerAction::<CreateCustomer>::new();
    let query = use_query_map();
    let q = move || query.with(|q| q.get("q")).filter(|q| !q.is_empty());
    let page = move || query.with(|q| q.get("page").map(|p| page_number(Some(&p))));
    let customers = Resource::new(
        move || (q(), page(), create.version().get()),
        |(q, page, _)| list_customers(q, page),
    );
    let error = error_field(create.value().into());
    view! {
        <Title text="Customers" />
        <h1>"Customers"</h1>
        <form method="get" class="filter" role="search">
            <label for="customer-search">"Search"</label>
            <input id="customer-search" name="q" type="search" maxlength="100"
                placeholder="name or account id" value=q />
            <button type="submit">"Search"</button>
        </form>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match customers.await {
                    Ok(list) => view! { <CustomerTable list q=q().unwrap_or_default() /> }.into_any(),
                    Err(err) => view! { <ErrorPage err /> }.into_any(),
                }
            })}
        </Suspense>
        <AdminOnly>
            <ActionForm action=create attr:class="card narrow" attr:id="create-customer-form">
                <h2>"Add a customer"</h2>
                <CustomerFields prefix="new" customer=None error />
                {move || create.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                <button type="submit" class="primary">"Add customer"</button>
            </ActionForm>
        </AdminOnly>
    }
}

#[component]
fn CustomerTable(list: Page<CustomerRow>, q: String) -> impl IntoView {
    let pages = list.pages();
    let noun = if list.total == 1 {
        "customer"
    } else {
        "customers"
    };
    view! {
        <p class="count" id="customer-count">{format!("{} {noun}", list.total)}</p>
        <table class="grid" id="customers-table">
            <thead><tr>
                <th>"Name"</th><th>"Account"</th><th>"Time zone"</th><th>"SLA target"</th>
                <th>"Services"</th>
            </tr></thead>
            <tbody>
                {list.rows.into_iter().map(|c| {
                    let account = c.account_id.clone();
                    view! {
                    <tr data-account=account>
                        <td><a href=format!("/inventory/customers/{}", c.id.0)>{c.name}</a></td>
                        <td class="mono">{c.account_id}</td>
                        <td>{c.timezone}</td>
                        <td>{c.sla_target.map(|t| format!("{t} %")).unwrap_or_else(|| "—".into())}</td>
                        <td>{c.services}</td>
                    </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <Pager path="/inventory/customers" params=vec![("q", q)] page=list.page pages />
    }
}
