//! One device: its settings, interfaces, probes and links, and (for admins) the forms to edit
//! it, add, edit and remove interfaces and links, add and remove probes, and delete it. An interface or link is edited in place:
//! its row's "Edit" is a plain link to `?edit_interface=ID` or `?edit_link=ID`, which shows its
//! form below the table (so it works without JavaScript); saving goes back to the bare page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::devices::{
    device_form_choices, get_device, get_device_impact, list_device_names, AddInterface, AddProbe,
    DeleteDevice, DeleteInterface, DeleteProbe, UpdateDevice, UpdateInterface,
};
use crate::api::links::{CreateLink, DeleteLink, UpdateLink};
use crate::components::device_form::DeviceFields;
use crate::components::fields::{error_field, AdminOnly, Field};
use crate::components::notice::{ErrorNotice, ErrorPage};
use crate::error::AppError;
use crate::model::device::{
    DeviceChoices, DeviceDetail, DeviceImpact, InterfaceKind, InterfaceRole, InterfaceRow,
};
use crate::model::link::{LinkKind, LinkRow};
use crate::model::probe::{ProbeKind, DEFAULT_INTERVAL_S, DEFAULT_TIMEOUT_MS};

/// The page's forms, passed down together.
#[derive(Clone, Copy)]
struct Actions {
    update: ServerAction<UpdateDevice>,
    delete: ServerAction<DeleteDevice>,
    add_interface: ServerAction<AddInterface>,
    update_interface: ServerAction<UpdateInterface>,
    delete_interface: ServerAction<DeleteInterface>,
    add_probe: ServerAction<AddProbe>,
    delete_probe: ServerAction<DeleteProbe>,
    create_link: ServerAction<CreateLink>,
    update_link: ServerAction<UpdateLink>,
    delete_link: ServerAction<DeleteLink>,
}

#[component]
pub fn DevicePage() -> impl IntoView {
    let params = use_params_map();
    let actions = Actions {
        update: ServerAction::new(),
        delete: ServerAction::new(),
        add_interface: ServerAction::new(),
        update_interface: ServerAction::new(),
        delete_interface: ServerAction::new(),
        add_probe: ServerAction::new(),
        delete_probe: ServerAction::new(),
        create_link: ServerAction::new(),
        update_link: ServerAction::new(),
        delete_link: ServerAction::new(),
    };
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let query = use_query_map();
    let editing = move |key: &'static str| {
        Signal::derive(move || query.with(|q| q.get(key).and_then(|v| v.parse::<i64>().ok())))
    };
    let edit = Editing {
        interface: editing("edit_interface"),
        link: editing("edit_link"),
    };
    // Every resource of the page is made here, at the top, not inside a `Suspend`: a resource
    // created while the page hydrates must find its server-rendered value, or the forms that
    // wait on it are not hydrated in time.
    let names = Resource::new(|| (), |_| list_device_names());
    let choices = Resource::new(|| (), |_| device_form_choices());
    let impact = Resource::new(
        move || {
            (
                id(),
                actions.create_link.version().get(),
                actions.update_link.version().get(),
                actions.delete_link.version().get(),
            )
        },
        |(id, ..)| async move {
            match id {
                Some(id) => get_device_impact(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    let device = Resource::new(
        move || {
            (
                id(),
                actions.update.version().get(),
                actions.add_interface.version().get(),
                actions.update_interface.version().get(),
                actions.delete_interface.version().get(),
                actions.add_probe.version().get(),
                actions.delete_probe.version().get(),
                actions.create_link.version().get(),
                actions.update_link.version().get(),
                actions.delete_link.version().get(),
            )
        },
        |(id, ..)| async move {
            match id {
                Some(id) => get_device(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    view! {
        <Title text="Device" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match device.await {
                    Ok(d) => {
                        let names = names.await.unwrap_or_default();
                        let choices = choices.await.unwrap_or_default();
                        view! { <DeviceDetailView d names choices impact actions edit /> }.into_any()
                    }
                    Err(err) => view! { <ErrorPage err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DeviceDetailView(
    d: DeviceDetail,
    names: Vec<(i64, String)>,
    choices: DeviceChoices,
    impact: Resource<Result<DeviceImpact, AppError>>,
    actions: Actions,
    edit: Editing,
) -> impl IntoView {
    let id = d.row.id.0;
    let profile =
        |p: &Option<(i64, String)>| p.as_ref().map_or_else(|| "—".to_owned(), |p| p.1.clone());
    let api = format!("{}{}", d.api_port, if d.api_tls { " (TLS)" } else { "" });
    // Copy, so that the admin-only children (called again whenever the user reloads) can use it.
    let device = StoredValue::new(d.clone());
    view! {
        <h1>{d.row.name.clone()}</h1>
        <p class="sub">
            <span id="device-role">{d.row.role.as_str()}</span> " at "
            <a href=format!("/inventory/sites/{}", d.row.site_id.0)>{format!("{} {}", d.row.site_code, d.site_name)}</a>
            " · " <span id="device-status">{if d.row.enabled { "enabled" } else { "disabled" }}</span>
        </p>
        <dl class="fields">
            <dt>"Vendor / model"</dt><dd>{format!("{} {}", d.row.vendor, d.row.model)}</dd>
            <dt>"Management address"</dt><dd class="mono" id="device-address">{d.row.mgmt_address.clone()}</dd>
            <dt>"RouterOS API"</dt><dd>{api}</dd>
            <dt>"REST"</dt><dd>{d.rest_port.map_or_else(|| "not used".to_owned(), |p| p.to_string())}</dd>
            <dt>"Login"</dt><dd>{profile(&d.credential_profile)}</dd>
            <dt>"SNMP"</dt><dd>{format!("{} {}", d.snmp_version, profile(&d.snmp_profile))}</dd>
            <dt>"Polling"</dt><dd>{d.polling_profile.as_str()}</dd>
            <dt>"Tags"</dt><dd>{d.row.tags.join(", ")}</dd>
        </dl>
        <Impact impact />
        <Interfaces d=d.clone() actions editing=edit.interface />
        <Probes d=d.clone() actions />
        <Links d=d.clone() names actions editing=edit.link />
        <AdminOnly>
            <EditForms d=device.get_value() choices=choices.clone() actions id />
        </AdminOnly>
    }
}

/// The blast radius and upstream paths, from the dependency graph.
#[component]
fn Impact(impact: Resource<Result<DeviceImpact, AppError>>) -> impl IntoView {
    let list = |items: Vec<(i64, String)>, base: &'static str| {
        items
            .into_iter()
            .map(|(id, name)| view! { <li><a href=format!("{base}/{id}")>{name}</a></li> })
            .collect_view()
    };
    view! {
        <section class="card wide" id="device-impact">
            <h2>"If this device fails"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Working it out…"</p> }>
                {move || Suspend::new(async move {
                    match impact.await {
                        Ok(i) => view! {
                            <p id="impact-summary">{format!(
                                "{} devices and {} services go down; {} depend on it in all (the rest have another path).",
                                i.devices_down.len(), i.services_down.len(), i.dependents
                            )}</p>
                            <ul class="impact">{list(i.devices_down, "/inventory/devices")}{list(i.services_down, "/inventory/services")}</ul>
                            <h3>"Upstream paths"</h3>
                            <ul id="upstream-paths">
                                {i.upstream_paths.into_iter().map(|p| view! { <li>{p.join(" → ")}</li> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(err) => view! { <ErrorNotice err /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Interfaces(d: DeviceDetail, actions: Actions, editing: Signal<Option<i64>>) -> impl IntoView {
    let id = d.row.id.0;
    let error = error_field(actions.add_interface.value().into());
    let rows = StoredValue::new(d.interfaces.clone());
    let edited = move || {
        let iid = editing.get()?;
        rows.with_value(|rows| rows.iter().find(|i| i.id.0 == iid).cloned())
    };
    view! {
        <section class="card wide">
            <h2>"Interfaces"</h2>
            <table class="grid" id="interfaces-table">
                <thead><tr><th>"Name"</th><th>"Kind"</th><th>"Speed"</th><th>"Role"</th><th>"Source"</th><th></th></tr></thead>
                <tbody>
                    {d.interfaces.into_iter().map(|i| { let key = i.name.clone(); let iid = i.id.0; view! {
                        <tr data-interface=key>
                            <td class="mono">{i.name}</td>
                            <td>{i.kind.as_str()}</td>
                            <td>{i.speed_mbps.map(|s| format!("{s} Mbit/s")).unwrap_or_default()}</td>
                            <td>{i.role.as_str()}</td>
                            <td>{if i.discovered { "discovered" } else { "manual" }}</td>
                            <td>
                                <AdminOnly>
                                    <a href=format!("/inventory/devices/{id}?edit_interface={iid}") class="edit">"Edit"</a>
                                    " "
                                    <ActionForm action=actions.delete_interface attr:class="inline">
                                        <input type="hidden" name="device_id" value=id />
                                        <input type="hidden" name="id" value=iid />
                                        <button type="submit" class="link">"Remove"</button>
                                    </ActionForm>
                                </AdminOnly>
                            </td>
                        </tr>
                    }}).collect_view()}
                </tbody>
            </table>
            {move || actions.delete_interface.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
            <AdminOnly>
                {move || edited().map(|i| view! { <EditInterface device=id i action=actions.update_interface /> })}
            </AdminOnly>
            <AdminOnly>
                <ActionForm action=actions.add_interface attr:class="inline-form" attr:id="add-interface-form">
                    <input type="hidden" name="device_id" value=id />
                    <Field id="interface-name" name="name" label="Name" required=true max=100 placeholder="sfp-sfpplus1" error />
                    <label for="interface-kind">"Kind"</label>
                    <select id="interface-kind" name="kind">
                        {InterfaceKind::ALL.iter().map(|k| view! { <option value=k.as_str()>{k.as_str()}</option> }).collect_view()}
                    </select>
                    <Field id="interface-speed" name="speed_mbps" label="Speed (Mbit/s)" max=8 error />
                    <label for="interface-role">"Role"</label>
                    <select id="interface-role" name="role">
                        {InterfaceRole::ALL.iter().map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> }).collect_view()}
                    </select>
                    {move || actions.add_interface.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                    <button type="submit">"Add interface"</button>
                </ActionForm>
            </AdminOnly>
        </section>
    }
}

/// The probes defined on the device, with their last results, and the form to add one.
#[component]
fn Probes(d: DeviceDetail, actions: Actions) -> impl IntoView {
    let id = d.row.id.0;
    let error = error_field(actions.add_probe.value().into());
    let invalid = move |field: &'static str| {
        move || (error.get().as_deref() == Some(field)).then_some("true")
    };
    view! {
        <section class="card wide" id="device-probes">
            <h2>"Probes"</h2>
            <p class="hint">
                "Run from the POP by the agent that serves this device's site, beside the reachability probe every device gets. Their results are the series probe_up and probe_rtt_ms of this device."
            </p>
            <table class="grid" id="probes-table">
                <thead><tr><th>"Kind"</th><th>"Target"</th><th>"Every"</th><th>"Timeout"</th><th>"Last result"</th><th></th></tr></thead>
                <tbody>
                    {d.probes.into_iter().map(|p| {
                        let (state_class, last) = match &p.last {
                            Some(r) => (
                                if r.state == "up" { "state ok" } else { "state crit" },
                                format!("{} ({} s ago)", r.summary(), r.age_s),
                            ),
                            None => ("state warn", "no result yet".to_owned()),
                        };
                        view! {
                            <tr data-probe=format!("{}:{}", p.kind, p.target)>
                                <td>{p.kind.as_str()}</td>
                                <td class="mono">{p.target.clone()}</td>
                                <td>{format!("{} s", p.interval_s)}</td>
                                <td>{format!("{} ms", p.timeout_ms)}</td>
                                <td class=state_class>{last}</td>
                                <td>
                                    <AdminOnly>
                                        <ActionForm action=actions.delete_probe attr:class="inline">
                                            <input type="hidden" name="device_id" value=id />
                                            <input type="hidden" name="id" value=p.id.0 />
                                            <button type="submit" class="link">"Remove"</button>
                                        </ActionForm>
                                    </AdminOnly>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {move || actions.delete_probe.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
            <AdminOnly>
                <ActionForm action=actions.add_probe attr:class="inline-form" attr:id="add-probe-form">
                    <input type="hidden" name="device_id" value=id />
                    <label for="probe-kind">"Kind"</label>
                    <select id="probe-kind" name="form[kind]" aria-invalid=invalid("kind")>
                        {ProbeKind::ALL.iter().map(|k| view! { <option value=k.as_str()>{k.as_str()}</option> }).collect_view()}
                    </select>
                    <Field id="probe-target" name="form[target]" label="Target" required=true max=190
                        placeholder="10.20.0.1 · host:443 · name@10.20.0.53 · https://…" error />
                    <Field id="probe-interval" name="form[interval_s]" label="Every (s)"
                        value=DEFAULT_INTERVAL_S.to_string() max=4 error />
                    <Field id="probe-timeout" name="form[timeout_ms]" label="Timeout (ms)"
                        value=DEFAULT_TIMEOUT_MS.to_string() max=5 error />
                    <p class="hint">
                        {ProbeKind::ALL.iter().map(|k| format!("{}: {}", k.as_str(), k.example())).collect::<Vec<_>>().join(" · ")}
                    </p>
                    {move || actions.add_probe.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                    <button type="submit">"Add probe"</button>
                </ActionForm>
            </AdminOnly>
        </section>
    }
}

#[component]
fn Links(
    d: DeviceDetail,
    names: Vec<(i64, String)>,
    actions: Actions,
    editing: Signal<Option<i64>>,
) -> impl IntoView {
    let id = d.row.id.0;
    let names = StoredValue::new(names);
    let error = error_field(actions.create_link.value().into());
    let rows = StoredValue::new(d.links.clone());
    let edited = move || {
        let lid = editing.get()?;
        rows.with_value(|rows| rows.iter().find(|l| l.id.0 == lid).cloned())
    };
    view! {
        <section class="card wide">
            <h2>"Links"</h2>
            <table class="grid" id="links-table">
                <thead><tr><th>"Link"</th><th>"Kind"</th><th>"Capacity"</th><th>"Dependency"</th><th></th></tr></thead>
                <tbody>
                    {d.links.into_iter().map(|l| {
                        let dependency = if !l.upstream {
                            "peer"
                        } else if l.b_device.0 == id {
                            "uplink (this device depends on it)"
                        } else {
                            "downlink"
                        };
                        view! {
                            <tr data-link=l.id.0>
                                <td>{l.label()}</td>
                                <td>{l.kind.as_str()}</td>
                                <td>{l.capacity_mbps.map(|c| format!("{c} Mbit/s")).unwrap_or_default()}</td>
                                <td>{dependency}</td>
                                <td>
                                    <AdminOnly>
                                        <a href=format!("/inventory/devices/{id}?edit_link={}", l.id.0) class="edit">"Edit"</a>
                                        " "
                                        <ActionForm action=actions.delete_link attr:class="inline">
                                            <input type="hidden" name="id" value=l.id.0 />
                                            <input type="hidden" name="back" value=id />
                                            <button type="submit" class="link">"Remove"</button>
                                        </ActionForm>
                                    </AdminOnly>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {move || actions.delete_link.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
            <AdminOnly>
                {move || edited().map(|l| view! {
                    <EditLink device=id l names=names.get_value() action=actions.update_link />
                })}
            </AdminOnly>
            <AdminOnly>
                <ActionForm action=actions.create_link attr:class="inline-form" attr:id="add-link-form">
                    <h3>"Add an uplink"</h3>
                    <input type="hidden" name="form[b_device_id]" value=id />
                    <input type="hidden" name="back" value=id />
                    <label for="link-a-device">"Upstream device"</label>
                    <select id="link-a-device" name="form[a_device_id]" required
                        aria-invalid=move || (error.get().as_deref() == Some("a_device_id")).then_some("true")>
                        <option value="">"— choose —"</option>
                        {names.get_value().into_iter().filter(|(other, _)| *other != id).map(|(other, name)| view! {
                            <option value=other>{name}</option>
                        }).collect_view()}
                    </select>
                    <Field id="link-a-interface" name="form[a_interface]" label="Its interface" max=100 error />
                    <Field id="link-b-interface" name="form[b_interface]" label="This device's interface" max=100 error />
                    <label for="link-kind">"Kind"</label>
                    <select id="link-kind" name="form[kind]">
                        {LinkKind::ALL.iter().map(|k| view! { <option value=k.as_str()>{k.as_str()}</option> }).collect_view()}
                    </select>
                    <Field id="link-capacity" name="form[capacity_mbps]" label="Capacity (Mbit/s)" max=8 error />
                    <label class="check"><input type="checkbox" id="link-upstream" name="form[upstream]" checked=true />
                        " This device depends on it (untick for a peer link)"</label>
                    {move || actions.create_link.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                    <button type="submit">"Add link"</button>
                </ActionForm>
            </AdminOnly>
        </section>
    }
}

/// Which row's edit form the URL asks for (`?edit_interface=ID`, `?edit_link=ID`).
#[derive(Clone, Copy)]
struct Editing {
    interface: Signal<Option<i64>>,
    link: Signal<Option<i64>>,
}

/// One interface's form, filled in. Saving (or "Cancel") goes back to the page without the query.
#[component]
fn EditInterface(
    device: i64,
    i: InterfaceRow,
    action: ServerAction<UpdateInterface>,
) -> impl IntoView {
    let error = error_field(action.value().into());
    let invalid = move |field: &'static str| {
        move || (error.get().as_deref() == Some(field)).then_some("true")
    };
    let (kind, role) = (i.kind, i.role);
    view! {
        <ActionForm action attr:class="inline-form" attr:id="edit-interface-form">
            <h3>{format!("Edit interface {}", i.name)}</h3>
            <input type="hidden" name="device_id" value=device />
            <input type="hidden" name="id" value=i.id.0 />
            <Field id="edit-interface-name" name="form[name]" label="Name" value=i.name.clone()
                required=true max=100 error />
            <label for="edit-interface-kind">"Kind"</label>
            <select id="edit-interface-kind" name="form[kind]" aria-invalid=invalid("kind")>
                {InterfaceKind::ALL.iter().map(|k| view! { <option value=k.as_str() selected=*k == kind>{k.as_str()}</option> }).collect_view()}
            </select>
            <Field id="edit-interface-speed" name="form[speed_mbps]" label="Speed (Mbit/s)"
                value=i.speed_mbps.map(|s| s.to_string()).unwrap_or_default() max=8 error />
            <label for="edit-interface-role">"Role"</label>
            <select id="edit-interface-role" name="form[role]" aria-invalid=invalid("role")>
                {InterfaceRole::ALL.iter().map(|r| view! { <option value=r.as_str() selected=*r == role>{r.as_str()}</option> }).collect_view()}
            </select>
            {move || action.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
            <button type="submit">"Save interface"</button>
            <a href=format!("/inventory/devices/{device}")>"Cancel"</a>
        </ActionForm>
    }
}

/// One link's form, filled in: both ends can change, as can its kind, capacity and direction.
#[component]
fn EditLink(
    device: i64,
    l: LinkRow,
    names: Vec<(i64, String)>,
    action: ServerAction<UpdateLink>,
) -> impl IntoView {
    let error = error_field(action.value().into());
    let invalid = move |field: &'static str| {
        move || (error.get().as_deref() == Some(field)).then_some("true")
    };
    let kind = l.kind;
    let device_options = move |selected: i64| {
        names
            .iter()
            .cloned()
            .map(|(other, name)| view! { <option value=other selected=other == selected>{name}</option> })
            .collect_view()
    };
    view! {
        <ActionForm action attr:class="inline-form" attr:id="edit-link-form">
            <h3>{format!("Edit link {}", l.label())}</h3>
            <input type="hidden" name="id" value=l.id.0 />
            <input type="hidden" name="back" value=device />
            <label for="edit-link-a-device">"Upstream device"</label>
            <select id="edit-link-a-device" name="form[a_device_id]" required aria-invalid=invalid("a_device_id")>
                {device_options(l.a_device.0)}
            </select>
            <Field id="edit-link-a-interface" name="form[a_interface]" label="Its interface"
                value=l.a_interface.clone().unwrap_or_default() max=100 error />
            <label for="edit-link-b-device">"Downstream device"</label>
            <select id="edit-link-b-device" name="form[b_device_id]" required aria-invalid=invalid("b_device_id")>
                {device_options(l.b_device.0)}
            </select>
            <Field id="edit-link-b-interface" name="form[b_interface]" label="Its interface"
                value=l.b_interface.clone().unwrap_or_default() max=100 error />
            <label for="edit-link-kind">"Kind"</label>
            <select id="edit-link-kind" name="form[kind]" aria-invalid=invalid("kind")>
                {LinkKind::ALL.iter().map(|k| view! { <option value=k.as_str() selected=*k == kind>{k.as_str()}</option> }).collect_view()}
            </select>
            <Field id="edit-link-capacity" name="form[capacity_mbps]" label="Capacity (Mbit/s)"
                value=l.capacity_mbps.map(|c| c.to_string()).unwrap_or_default() max=8 error />
            <label class="check"><input type="checkbox" id="edit-link-upstream" name="form[upstream]" checked=l.upstream />
                " The downstream device depends on the upstream one (untick for a peer link)"</label>
            {move || action.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
            <button type="submit">"Save link"</button>
            <a href=format!("/inventory/devices/{device}")>"Cancel"</a>
        </ActionForm>
    }
}

#[component]
fn EditForms(d: DeviceDetail, choices: DeviceChoices, actions: Actions, id: i64) -> impl IntoView {
    let error = error_field(actions.update.value().into());
    view! {
        <div class="cards">
            <ActionForm action=actions.update attr:class="card narrow" attr:id="edit-device-form">
                <h2>"Edit"</h2>
                <input type="hidden" name="id" value=id />
                <DeviceFields prefix="edit" device=Some(d) choices error />
                {move || actions.update.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                <button type="submit" class="primary">"Save"</button>
            </ActionForm>
            <ActionForm action=actions.delete attr:class="card narrow" attr:id="delete-device-form">
                <h2>"Delete"</h2>
                <p>"Deletes the device with its interfaces and links."</p>
                <input type="hidden" name="id" value=id />
                {move || actions.delete.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                <button type="submit" class="danger">"Delete device"</button>
            </ActionForm>
        </div>
    }
}
