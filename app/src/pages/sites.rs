//! The sites list: search, pages, and the form to add a site (admins).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::sites::{list_sites, CreateSite};
use crate::components::fields::{error_field, AdminOnly, Field};
use crate::components::notice::{ErrorNotice, ErrorPage};
use crate::components::pager::Pager;
use crate::model::site::SiteRow;
use crate::model::Page;

#[component]
pub fn SitesPage() -> impl IntoView {
    let create = ServerAction::<CreateSite>::new();
    let query = use_query_map();
    let q = move || query.with(|q| q.get("q")).filter(|q| !q.is_empty());
    let page = move || {
        query
            .with(|q| q.get("page"))
            .and_then(|p| p.parse::<i64>().ok())
    };
    let sites = Resource::new(move || (q(), page()), |(q, page)| list_sites(q, page));
    let error = error_field(create.value().into());
    view! {
        <Title text="Sites" />
        <h1>"Sites"</h1>
        <form method="get" class="filter" role="search">
            <label for="site-filter">"Search"</label>
            <input id="site-filter" name="q" type="search" maxlength="100"
                placeholder="name, code or region" value=q />
            <button type="submit">"Search"</button>
        </form>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match sites.await {
                    Ok(list) => view! { <SiteTable list q=q().unwrap_or_default() /> }.into_any(),
                    Err(err) => view! { <ErrorPage err /> }.into_any(),
                }
            })}
        </Suspense>
        <AdminOnly>
            <ActionForm action=create attr:class="card narrow" attr:id="create-site-form">
                <h2>"Add a site"</h2>
                <Field id="new-site-name" name="form[name]" label="Name" required=true max=100 error />
                <Field id="new-site-code" name="form[code]" label="Code (e.g. VIE1)" required=true max=16 error />
                <Field id="new-site-region" name="form[region]" label="Region" max=100 error />
                <Field id="new-site-address" name="form[address]" label="Address" max=300 error />
                <Field id="new-site-latitude" name="form[latitude]" label="Latitude" max=20 error />
                <Field id="new-site-longitude" name="form[longitude]" label="Longitude" max=20 error />
                <Field id="new-site-timezone" name="form[timezone]" label="Time zone" value="UTC" max=64
                    placeholder="Europe/Vienna" error />
                {move || create.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                <button type="submit" class="primary">"Add site"</button>
            </ActionForm>
        </AdminOnly>
    }
}

#[component]
fn SiteTable(list: Page<SiteRow>, q: String) -> impl IntoView {
    let pages = list.pages();
    let noun = if list.total == 1 { "site" } else { "sites" };
    view! {
        <p class="count" id="site-count">{format!("{} {noun}", list.total)}</p>
        <table class="grid" id="sites-table">
            <thead><tr>
                <th>"Code"</th><th>"Name"</th><th>"Region"</th><th>"Time zone"</th><th>"Devices"</th>
            </tr></thead>
            <tbody>
                {list.rows.into_iter().map(|s| { let key = s.code.clone(); view! {
                    <tr data-code=key>
                        <td class="mono"><a href=format!("/inventory/sites/{}", s.id.0)>{s.code}</a></td>
                        <td>{s.name}</td>
                        <td>{s.region}</td>
                        <td>{s.timezone}</td>
                        <td>{s.device_count}</td>
                    </tr>
                }}).collect_view()}
            </tbody>
        </table>
        <Pager path="/inventory/sites" params=vec![("q", q)] page=list.page pages />
    }
}
