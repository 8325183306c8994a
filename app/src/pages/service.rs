//! One service: its fields, what it depends on, and (admins) the forms to add and remove
//! dependencies, edit it and delete it.
//!
//! Each kind of dependency has its own small form (a hidden `kind` and a select of the
//! tenant's objects of that kind), so adding works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::services::{
    get_service, list_dependency_choices, AddServiceDependency, DeleteService,
    RemoveServiceDependency, UpdateService,
};
use crate::components::fields::{error_field, AdminOnly};
use crate::components::notice::{ErrorNotice, ErrorPage};
use crate::components::service_form::ServiceFields;
use crate::error::AppError;
use crate::model::service::{Choice, Dependency, DependencyChoices, DependencyKind, Service};

/// The actions of the page, passed down together.
#[derive(Clone, Copy)]
struct Actions {
    update: ServerAction<UpdateService>,
    delete: ServerAction<DeleteService>,
    add: ServerAction<AddServiceDependency>,
    remove: ServerAction<RemoveServiceDependency>,
}

#[component]
pub fn ServicePage() -> impl IntoView {
    let params = use_params_map();
    let actions = Actions {
        update: ServerAction::new(),
        delete: ServerAction::new(),
        add: ServerAction::new(),
        remove: ServerAction::new(),
    };
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let versions = move || {
        (
            actions.update.version().get(),
            actions.add.version().get(),
            actions.remove.version().get(),
        )
    };
    let data = Resource::new(
        move || (id(), versions()),
        |(id, _)| async move {
            let Some(id) = id else {
                return Err(AppError::NotFound);
            };
            Ok((get_service(id).await?, list_dependency_choices().await?))
        },
    );
    view! {
        <Title text="Service" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((s, choices)) => view! { <ServiceDetail s choices actions /> }.into_any(),
                    Err(err) => view! { <ErrorPage err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ServiceDetail(s: Service, choices: DependencyChoices, actions: Actions) -> impl IntoView {
    let Actions {
        update,
        delete,
        add,
        remove,
    } = actions;
    let error = error_field(update.value().into());
    let id = s.id.0;
    let party = match (s.customer_id, s.customer_name.clone()) {
        (Some(c), Some(name)) => {
            view! { <a href=format!("/inventory/customers/{}", c.0)>{name}</a> }.into_any()
        }
        _ if !s.provider.is_empty() => {
            view! { <span>"Provider: " {s.provider.clone()}</span> }.into_any()
        }
        _ => view! { <span>"—"</span> }.into_any(),
    };
    let access = match (&s.access_device_name, &s.access_interface) {
        (Some(d), Some(i)) => format!("{d} {i}"),
        (Some(d), None) => d.clone(),
        _ => "—".to_owned(),
    };
    let sla = match (s.sla_target, s.customer_sla_target) {
        (Some(t), _) => format!("{t} %"),
        (None, Some(t)) => format!("{t} % (the customer's)"),
        (None, None) => "none".to_owned(),
    };
    let existing: Vec<(DependencyKind, i64)> = s
        .dependencies
        .iter()
        .map(|d| (d.kind(), d.target_id()))
        .collect();
    let open = move |kind: DependencyKind, list: Vec<Choice>| -> Vec<Choice> {
        list.into_iter()
            .filter(|c| !existing.contains(&(kind, c.id)))
            .filter(|c| !(kind == DependencyKind::Service && c.id == id))
            .collect()
    };
    let pickers = [
        (
            DependencyKind::Device,
            "Device",
            open(DependencyKind::Device, choices.devices.clone()),
        ),
        (
            DependencyKind::Link,
            "Link",
            open(DependencyKind::Link, choices.links.clone()),
        ),
        (
            DependencyKind::Group,
            "Redundancy group",
            open(DependencyKind::Group, choices.groups.clone()),
        ),
        (
            DependencyKind::Service,
            "Service",
            open(DependencyKind::Service, choices.services.clone()),
        ),
    ];
    // Copies, so that the admin-only children (called again on every sign-in change) can use them.
    let (customers, devices) = (
        StoredValue::new(choices.customers.clone()),
        StoredValue::new(choices.devices.clone()),
    );
    let service = StoredValue::new(s.clone());
    view! {
        <h1 id="service-name">{s.name.clone()}</h1>
        <p class="sub">
            <span id="service-kind">{s.kind.label()}</span> " · "
            <span id="service-status">{if s.enabled { "enabled" } else { "disabled" }}</span>
        </p>
        <dl class="fields">
            <dt>"Customer"</dt><dd id="service-customer">{party}</dd>
            <dt>"Access"</dt><dd>{access}</dd>
            <dt>"PPPoE username pattern"</dt>
            <dd class="mono">{if s.pppoe_username_pattern.is_empty() { "—".to_owned() } else { s.pppoe_username_pattern.clone() }}</dd>
            <dt>"SLA target"</dt><dd id="service-sla">{sla}</dd>
            <dt>"Business hours"</dt><dd>{s.business_hours.clone().unwrap_or_else(|| "24x7".into())}</dd>
            <dt>"Updated (UTC)"</dt><dd class="mono">{s.updated_at.clone()}</dd>
        </dl>
        <h2>"Depends on"</h2>
        <DependencyTable id deps=s.dependencies.clone() remove />
        <AdminOnly>
            <h2>"Add a dependency"</h2>
            {move || add.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
            <div class="cards">
                {pickers.clone().into_iter().map(|(kind, label, list)| view! {
                    <AddDependency id kind label list add />
                }).collect_view()}
            </div>
            <div class="cards">
                <ActionForm action=update attr:class="card" attr:id="edit-service-form">
                    <h2>"Edit"</h2>
                    <input type="hidden" name="id" value=id />
                    <ServiceFields prefix="edit" service=Some(service.get_value())
                        customers=customers.get_value() devices=devices.get_value() customer=None error />
                    {move || update.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                    <button type="submit" class="primary">"Save"</button>
                </ActionForm>
                <ActionForm action=delete attr:class="card" attr:id="delete-service-form">
                    <h2>"Delete"</h2>
                    <p class="hint">"A service that other services depend on cannot be deleted."</p>
                    <input type="hidden" name="id" value=id />
                    {move || delete.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                    <button type="submit" class="danger">"Delete service"</button>
                </ActionForm>
            </div>
        </AdminOnly>
        <p><a href="/inventory/services">"All services"</a></p>
    }
}

#[component]
fn DependencyTable(
    id: i64,
    deps: Vec<Dependency>,
    remove: ServerAction<RemoveServiceDependency>,
) -> impl IntoView {
    if deps.is_empty() {
        return view! { <p class="hint" id="service-dependencies">"Nothing yet."</p> }.into_any();
    }
    view! {
        {move || remove.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
        <table class="grid" id="service-dependencies">
            <thead><tr><th>"Kind"</th><th>"What"</th><th></th></tr></thead>
            <tbody>
                {deps.into_iter().map(|d| {
                    let (kind, target) = (d.kind(), d.target_id());
                    let what = match &d {
                        Dependency::Service { id, name } => view! {
                            <a href=format!("/inventory/services/{}", id.0)>{name.clone()}</a>
                        }.into_any(),
                        other => view! { <span>{other.label().to_owned()}</span> }.into_any(),
                    };
                    view! {
                        <tr data-kind=kind.as_str() data-target=target>
                            <td>{kind.as_str()}</td>
                            <td>{what}</td>
                            <td>
                                <AdminOnly>
                                    <ActionForm action=remove attr:class="inline">
                                        <input type="hidden" name="id" value=id />
                                        <input type="hidden" name="kind" value=kind.as_str() />
                                        <input type="hidden" name="target_id" value=target />
                                        <button type="submit" class="link">"Remove"</button>
                                    </ActionForm>
                                </AdminOnly>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// The form adding one kind of dependency; says so when there is nothing (left) to add.
#[component]
fn AddDependency(
    id: i64,
    kind: DependencyKind,
    label: &'static str,
    list: Vec<Choice>,
    add: ServerAction<AddServiceDependency>,
) -> impl IntoView {
    let form_id = format!("add-{}-form", kind.as_str());
    let select_id = format!("add-{}-target", kind.as_str());
    if list.is_empty() {
        return view! {
            <div class="card" id=form_id>
                <h2>{label}</h2>
                <p class="hint">"Nothing to add."</p>
            </div>
        }
        .into_any();
    }
    view! {
        <ActionForm action=add attr:class="card" attr:id=form_id>
            <h2>{label}</h2>
            <input type="hidden" name="id" value=id />
            <input type="hidden" name="kind" value=kind.as_str() />
            <label for=select_id.clone()>{format!("{label} to depend on")}</label>
            <select id=select_id name="target_id">
                {list.into_iter().map(|c| view! { <option value=c.id>{c.label}</option> }).collect_view()}
            </select>
            <button type="submit">"Add"</button>
        </ActionForm>
    }
    .into_any()
}
