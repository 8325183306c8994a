//! The credential profiles page: the tenant's profiles (never their secrets) and, for admins,
//! the form to add one.
//!
//! The form offers every kind's secret fields. Without JavaScript they all show and the server
//! reads those of the chosen kind; once hydrated only the chosen kind's show.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::credentials::{list_credential_profiles, CreateCredentialProfile};
use crate::components::credential_fields::SecretFields;
use crate::components::layout::UserResource;
use crate::components::notice::{ErrorNotice, ErrorPage};
use crate::model::credential::{CredentialKind, CredentialProfileSummary};
use crate::model::user::Role;

#[component]
pub fn CredentialsPage() -> impl IntoView {
    let create = ServerAction::<CreateCredentialProfile>::new();
    let profiles = Resource::new(
        move || create.version().get(),
        |_| list_credential_profiles(),
    );
    let user = use_context::<UserResource>();
    view! {
        <Title text="Credentials" />
        <h1>"Credentials"</h1>
        <p class="sub">
            "Logins for RouterOS and SNMP. Secrets are encrypted at rest and never shown again."
        </p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match profiles.await {
                    Ok(rows) => view! { <ProfileTable rows /> }.into_any(),
                    Err(err) => view! { <ErrorPage err /> }.into_any(),
                }
            })}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let admin = match user {
                    Some(user) => matches!(user.await, Ok(Some(me)) if me.role == Role::Admin),
                    None => false,
                };
                admin.then(|| view! { <CreateForm create /> })
            })}
        </Suspense>
    }
}

#[component]
fn ProfileTable(rows: Vec<CredentialProfileSummary>) -> impl IntoView {
    let count = match rows.len() {
        1 => "1 profile".to_owned(),
        n => format!("{n} profiles"),
    };
    view! {
        <p class="count" id="credential-count">{count}</p>
        <table class="grid" id="credentials-table">
            <thead><tr><th>"Name"</th><th>"Kind"</th><th>"Description"</th><th>"Devices"</th><th>"Key"</th><th>"Updated (UTC)"</th></tr></thead>
            <tbody>
                {rows.into_iter().map(|p| view! {
                    <tr data-name=p.name.clone()>
                        <td><a href=format!("/inventory/credentials/{}", p.id.0)>{p.name.clone()}</a></td>
                        <td data-kind=p.kind.as_str()>{p.kind.label()}</td>
                        <td>{p.description.clone()}</td>
                        <td class="num">{p.used_by_devices}</td>
                        <td class="mono">{p.key_fingerprint.clone()}</td>
                        <td class="mono">{p.updated_at.clone()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn CreateForm(create: ServerAction<CreateCredentialProfile>) -> impl IntoView {
    let kind = RwSignal::new(CredentialKind::RouterOs);
    // Runs only in the browser: until then (and without JavaScript) every fieldset shows.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <ActionForm action=create attr:class="card narrow" attr:id="create-credential-form">
            <h2>"Add a credential profile"</h2>
            <label for="new-credential-name">"Name"</label>
            <input id="new-credential-name" name="form[name]" type="text" required maxlength="100"
                autocomplete="off" />
            <label for="new-credential-kind">"Kind"</label>
            <select id="new-credential-kind" name="form[kind]"
                on:change=move |ev| {
                    if let Ok(k) = event_target_value(&ev).parse() {
                        kind.set(k);
                    }
                }>
                {CredentialKind::ALL.into_iter().map(|k| view! {
                    <option value=k.as_str() selected=k == CredentialKind::RouterOs>{k.label()}</option>
                }).collect_view()}
            </select>
            <label for="new-credential-description">"Description (optional)"</label>
            <input id="new-credential-description" name="form[description]" type="text" maxlength="300" />
            {CredentialKind::ALL.into_iter().map(|k| {
                let hidden = Signal::derive(move || hydrated.get() && kind.get() != k);
                view! { <SecretFields kind=k editing=false hidden /> }
            }).collect_view()}
            {move || create.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
            <button type="submit" class="primary">"Add profile"</button>
        </ActionForm>
    }
}
