//! One user: change role, reset password, disable or enable.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::users::{get_user, ResetUserPassword, SetUserDisabled, SetUserRole};
use crate::components::notice::{ErrorNotice, ErrorPage};
use crate::error::AppError;
use crate::model::user::{Role, UserRow};

#[component]
pub fn UserPage() -> impl IntoView {
    let params = use_params_map();
    let set_role = ServerAction::<SetUserRole>::new();
    let reset = ServerAction::<ResetUserPassword>::new();
    let disable = ServerAction::<SetUserDisabled>::new();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let user = Resource::new(
        move || (id(), set_role.version().get(), disable.version().get()),
        |(id, _, _)| async move {
            match id {
                Some(id) => get_user(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    view! {
        <Title text="User" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(u) => view! { <UserDetail u set_role reset disable /> }.into_any(),
                    Err(err) => view! { <ErrorPage err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn UserDetail(
    u: UserRow,
    set_role: ServerAction<SetUserRole>,
    reset: ServerAction<ResetUserPassword>,
    disable: ServerAction<SetUserDisabled>,
) -> impl IntoView {
    let query = use_query_map();
    let was_reset = move || {
        query.with(|q| q.get("reset").is_some()) || matches!(reset.value().get(), Some(Ok(())))
    };
    let (id_role, id_reset, id_disable) =
        (u.id.0.to_string(), u.id.0.to_string(), u.id.0.to_string());
    view! {
        <h1>{u.username.clone()}</h1>
        <p class="sub">
            {u.display_name.clone()} " · " <span id="user-role">{u.role.as_str()}</span> " · "
            <span id="user-status">{if u.disabled { "disabled" } else { "active" }}</span>
        </p>
        <div class="cards">
            <ActionForm action=set_role attr:class="card" attr:id="role-form">
                <h2>"Role"</h2>
                <input type="hidden" name="id" value=id_role />
                <select name="role" aria-label="Role">
                    {Role::ALL.into_iter().map(|r| view! {
                        <option value=r.as_str() selected=r == u.role>{r.as_str()}</option>
                    }).collect_view()}
                </select>
                {move || set_role.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                <button type="submit">"Change role"</button>
            </ActionForm>
            <ActionForm action=reset attr:class="card" attr:id="reset-form">
                <h2>"Reset password"</h2>
                <input type="hidden" name="id" value=id_reset />
                <label for="reset-password">"New password (at least 12 characters)"</label>
                <input id="reset-password" name="new_password" type="password" required
                    minlength="12" maxlength="256" autocomplete="new-password" />
                {move || reset.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                {move || was_reset().then(|| view! { <p class="notice ok" role="status">"Password reset; the user's sessions were ended."</p> })}
                <button type="submit">"Reset password"</button>
            </ActionForm>
            <ActionForm action=disable attr:class="card" attr:id="disable-form">
                <h2>"Access"</h2>
                <input type="hidden" name="id" value=id_disable />
                <input type="hidden" name="disabled" value=if u.disabled { "false" } else { "true" } />
                {move || disable.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                <button type="submit" class=if u.disabled { "" } else { "danger" }>
                    {if u.disabled { "Enable account" } else { "Disable account" }}
                </button>
            </ActionForm>
        </div>
        <p><a href="/admin/users">"All users"</a></p>
    }
}
