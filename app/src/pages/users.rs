//! The users admin page: a filterable list and the form to add a user.
//!
//! The filter box narrows the table as you type once the page is hydrated; without JavaScript
//! it is a plain GET form (`?q=`) that the server filters on.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::users::{list_users, CreateUser};
use crate::components::notice::{ErrorNotice, ErrorPage};
use crate::model::user::{Role, UserRow};

#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let query = use_query_map();
    let q = move || query.with(|q| q.get("q")).filter(|q| !q.is_empty());
    let users = Resource::new(
        move || (q(), create.version().get()),
        |(q, _)| list_users(q),
    );
    let filter = RwSignal::new(String::new());
    view! {
        <Title text="Users" />
        <h1>"Users"</h1>
        <form method="get" class="filter" role="search">
            <label for="user-filter">"Filter"</label>
            <input id="user-filter" name="q" type="search" maxlength="100"
                placeholder="username or name" value=q
                on:input=move |ev| filter.set(event_target_value(&ev)) />
            <button type="submit">"Search"</button>
        </form>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(rows) => view! { <UserTable rows filter /> }.into_any(),
                    Err(err) => view! { <ErrorPage err /> }.into_any(),
                }
            })}
        </Suspense>
        <ActionForm action=create attr:class="card narrow" attr:id="create-user-form">
            <h2>"Add a user"</h2>
            <label for="new-username">"Username"</label>
            <input id="new-username" name="username" type="text" required maxlength="64" autocomplete="off" />
            <label for="new-display-name">"Name"</label>
            <input id="new-display-name" name="display_name" type="text" maxlength="100" />
            <label for="new-role">"Role"</label>
            <select id="new-role" name="role">
                {Role::ALL.into_iter().map(|r| view! {
                    <option value=r.as_str() selected=r == Role::Viewer>{r.as_str()}</option>
                }).collect_view()}
            </select>
            <label for="new-password">"Initial password (at least 12 characters)"</label>
            <input id="new-password" name="password" type="password" required minlength="12"
                maxlength="256" autocomplete="new-password" />
            {move || create.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
            <button type="submit" class="primary">"Add user"</button>
        </ActionForm>
    }
}

#[component]
fn UserTable(rows: Vec<UserRow>, filter: RwSignal<String>) -> impl IntoView {
    let total = rows.len();
    let rows = StoredValue::new(rows);
    let visible = move || {
        let needle = filter.get().trim().to_lowercase();
        rows.with_value(|rows| {
            rows.iter()
                .filter(|r| {
                    needle.is_empty()
                        || r.username.contains(&needle)
                        || r.display_name.to_lowercase().contains(&needle)
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <p class="count" id="user-count">
            {move || format!("{} of {} users", visible().len(), total)}
        </p>
        <table class="grid" id="users-table">
            <thead><tr><th>"Username"</th><th>"Name"</th><th>"Role"</th><th>"Status"</th><th>"Last sign-in (UTC)"</th></tr></thead>
            <tbody>
                <For each=visible key=|r| r.id.0 let:r>
                    <tr data-username=r.username.clone()>
                        <td><a href=format!("/admin/users/{}", r.id.0)>{r.username.clone()}</a></td>
                        <td>{r.display_name.clone()}</td>
                        <td>{r.role.as_str()}</td>
                        <td>{if r.disabled { "disabled" } else { "active" }}</td>
                        <td class="mono">{r.last_login_at.clone().unwrap_or_else(|| "never".into())}</td>
                    </tr>
                </For>
            </tbody>
        </table>
    }
}
