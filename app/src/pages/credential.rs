//! One credential profile: what it is and where it is used; for admins, the forms to rename it,
//! replace its secret (blank fields keep the stored values) and delete it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::credentials::{
    get_credential_profile, DeleteCredentialProfile, UpdateCredentialProfile,
};
use crate::components::credential_fields::SecretFields;
use crate::components::layout::UserResource;
use crate::components::notice::{ErrorNotice, ErrorPage};
use crate::error::AppError;
use crate::model::credential::CredentialProfileSummary;
use crate::model::user::Role;

#[component]
pub fn CredentialPage() -> impl IntoView {
    let params = use_params_map();
    let update = ServerAction::<UpdateCredentialProfile>::new();
    let delete = ServerAction::<DeleteCredentialProfile>::new();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let profile = Resource::new(
        move || (id(), update.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_credential_profile(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    let user = use_context::<UserResource>();
    view! {
        <Title text="Credential profile" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let admin = match user {
                    Some(user) => matches!(user.await, Ok(Some(me)) if me.role == Role::Admin),
                    None => false,
                };
                match profile.await {
                    Ok(p) => view! { <ProfileDetail p admin update delete /> }.into_any(),
                    Err(err) => view! { <ErrorPage err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProfileDetail(
    p: CredentialProfileSummary,
    admin: bool,
    update: ServerAction<UpdateCredentialProfile>,
    delete: ServerAction<DeleteCredentialProfile>,
) -> impl IntoView {
    let query = use_query_map();
    let saved = move || {
        query.with(|q| q.get("saved").is_some()) || matches!(update.value().get(), Some(Ok(())))
    };
    let used = match p.used_by_devices {
        0 => "not used by any device".to_owned(),
        1 => "used by 1 device".to_owned(),
        n => format!("used by {n} devices"),
    };
    let (name, description, kind) = (p.name.clone(), p.description.clone(), p.kind);
    let forms = admin.then(move || {
        let (id_update, id_delete) = (p.id.0.to_string(), p.id.0.to_string());
        view! {
            <div class="cards">
                <ActionForm action=update attr:class="card" attr:id="update-credential-form">
                    <h2>"Edit"</h2>
                    <input type="hidden" name="id" value=id_update />
                    <label for="credential-name">"Name"</label>
                    <input id="credential-name" name="form[name]" type="text" required maxlength="100"
                        value=name autocomplete="off" />
                    <label for="credential-description">"Description"</label>
                    <input id="credential-description" name="form[description]" type="text"
                        maxlength="300" value=description />
                    <SecretFields kind editing=true />
                    {move || update.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                    {move || saved().then(|| view! { <p class="notice ok" role="status">"Saved."</p> })}
                    <button type="submit" class="primary">"Save"</button>
                </ActionForm>
                <ActionForm action=delete attr:class="card" attr:id="delete-credential-form">
                    <h2>"Delete"</h2>
                    <input type="hidden" name="id" value=id_delete />
                    <p class="hint">"A profile that devices use cannot be deleted."</p>
                    {move || delete.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                    <button type="submit" class="danger">"Delete profile"</button>
                </ActionForm>
            </div>
        }
    });
    view! {
        <h1 id="credential-name-heading">{p.name}</h1>
        <p class="sub">
            <span id="credential-kind">{p.kind.label()}</span> " · "
            <span id="credential-used">{used}</span> " · sealed with key "
            <span class="mono">{p.key_fingerprint}</span>
        </p>
        {(!p.description.is_empty()).then(|| view! { <p>{p.description}</p> })}
        {forms}
        <p><a href="/inventory/credentials">"All credential profiles"</a></p>
    }
}
