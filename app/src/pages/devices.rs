//! The device list: search, filters (site, role, tag, status), pages, and the form to add a
//! device (admins). The filters are a GET form, so they work without JavaScript and the URL
//! can be bookmarked on a wall screen.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::devices::{device_form_choices, list_devices, CreateDevice};
use crate::components::device_form::DeviceFields;
use crate::components::fields::{error_field, AdminOnly};
use crate::components::notice::{ErrorNotice, ErrorPage};
use crate::components::pager::Pager;
use crate::model::device::{DeviceFilter, DeviceRole, DeviceRow};
use crate::model::Page;

#[component]
pub fn DevicesPage() -> impl IntoView {
    let create = ServerAction::<CreateDevice>::new();
    let query = use_query_map();
    let get = move |key: &str| query.with(|q| q.get(key)).filter(|v| !v.trim().is_empty());
    let filter = move || DeviceFilter {
        q: get("q"),
        site: get("site").and_then(|s| s.parse().ok()),
        role: get("role"),
        tag: get("tag"),
        status: get("status"),
        page: get("page").and_then(|p| p.parse().ok()),
    };
    let devices = Resource::new(filter, list_devices);
    let choices = Resource::new(|| (), |_| device_form_choices());
    let error = error_field(create.value().into());
    view! {
        <Title text="Devices" />
        <h1>"Devices"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let f = filter();
                let sites = choices.await.map(|c| c.sites).unwrap_or_default();
                view! { <FilterForm f sites /> }
            })}
        </Suspense>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match devices.await {
                    Ok(list) => view! { <DeviceTable list f=filter() /> }.into_any(),
                    Err(err) => view! { <ErrorPage err /> }.into_any(),
                }
            })}
        </Suspense>
        // The admin-only form is decided after the choices have loaded, inside the Suspense: a
        // Suspense inside `AdminOnly` (a `Show`) hydrated in the wrong order now and then.
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let choices = StoredValue::new(choices.await.unwrap_or_default());
                let site = filter().site;
                view! {
                    <AdminOnly>
                        <ActionForm action=create attr:class="card narrow" attr:id="create-device-form">
                            <h2>"Add a device"</h2>
                            <DeviceFields prefix="new" device=None choices=choices.get_value() site error />
                            {move || create.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                            <button type="submit" class="primary">"Add device"</button>
                        </ActionForm>
                    </AdminOnly>
                }
            })}
        </Suspense>
    }
}

#[component]
fn FilterForm(f: DeviceFilter, sites: Vec<(i64, String)>) -> impl IntoView {
    let role = f.role.clone().unwrap_or_default();
    let status = f.status.clone().unwrap_or_default();
    view! {
        <form method="get" class="filter" role="search" id="device-filter">
            <label for="device-q">"Search"</label>
            <input id="device-q" name="q" type="search" maxlength="100" placeholder="name, model or address"
                value=f.q.clone().unwrap_or_default() />
            <label for="device-site">"Site"</label>
            <select id="device-site" name="site">
                <option value="">"all"</option>
                {sites.into_iter().map(|(id, label)| view! {
                    <option value=id selected=Some(id) == f.site>{label}</option>
                }).collect_view()}
            </select>
            <label for="device-role">"Role"</label>
            <select id="device-role" name="role">
                <option value="">"all"</option>
                {DeviceRole::ALL.iter().map(|r| view! {
                    <option value=r.as_str() selected=r.as_str() == role>{r.as_str()}</option>
                }).collect_view()}
            </select>
            <label for="device-tag">"Tag"</label>
            <input id="device-tag" name="tag" type="text" maxlength="32" value=f.tag.clone().unwrap_or_default() />
            <label for="device-status">"Status"</label>
            <select id="device-status" name="status">
                {[("", "all"), ("enabled", "enabled"), ("disabled", "disabled")].into_iter().map(|(v, label)| view! {
                    <option value=v selected=v == status>{label}</option>
                }).collect_view()}
            </select>
            <button type="submit">"Filter"</button>
        </form>
    }
}

#[component]
fn DeviceTable(list: Page<DeviceRow>, f: DeviceFilter) -> impl IntoView {
    let pages = list.pages();
    let noun = if list.total == 1 { "device" } else { "devices" };
    let params = vec![
        ("q", f.q.unwrap_or_default()),
        ("site", f.site.map(|s| s.to_string()).unwrap_or_default()),
        ("role", f.role.unwrap_or_default()),
        ("tag", f.tag.unwrap_or_default()),
        ("status", f.status.unwrap_or_default()),
    ];
    view! {
        <p class="count" id="device-count">{format!("{} {noun}", list.total)}</p>
        <table class="grid" id="devices-table">
            <thead><tr>
                <th>"Name"</th><th>"Site"</th><th>"Role"</th><th>"Vendor / model"</th>
                <th>"Address"</th><th>"Tags"</th><th>"Status"</th>
            </tr></thead>
            <tbody>
                {list.rows.into_iter().map(|d| { let key = d.name.clone(); view! {
                    <tr data-name=key>
                        <td><a href=format!("/inventory/devices/{}", d.id.0)>{d.name}</a></td>
                        <td class="mono"><a href=format!("/inventory/sites/{}", d.site_id.0)>{d.site_code}</a></td>
                        <td>{d.role.as_str()}</td>
                        <td>{format!("{} {}", d.vendor, d.model)}</td>
                        <td class="mono">{d.mgmt_address}</td>
                        <td>{d.tags.join(", ")}</td>
                        <td>{if d.enabled { "enabled" } else { "disabled" }}</td>
                    </tr>
                }}).collect_view()}
            </tbody>
        </table>
        <Pager path="/inventory/devices" params page=list.page pages />
    }
}
