//! The signed-in user's own account: change password.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::ChangePassword;
use crate::components::notice::ErrorNotice;

#[component]
pub fn AccountPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let query = use_query_map();
    let changed = move || {
        query.with(|q| q.get("changed").is_some()) || matches!(change.value().get(), Some(Ok(())))
    };
    view! {
        <Title text="Account" />
        <h1>"Account"</h1>
        <ActionForm action=change attr:class="card narrow" attr:id="password-form">
            <h2>"Change password"</h2>
            <label for="current_password">"Current password"</label>
            <input id="current_password" name="current_password" type="password"
                autocomplete="current-password" required maxlength="256" />
            <label for="new_password">"New password (at least 12 characters)"</label>
            <input id="new_password" name="new_password" type="password"
                autocomplete="new-password" required minlength="12" maxlength="256" />
            <label for="confirm_password">"Repeat the new password"</label>
            <input id="confirm_password" name="confirm_password" type="password"
                autocomplete="new-password" required minlength="12" maxlength="256" />
            {move || change.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
            {move || changed().then(|| view! { <p class="notice ok" role="status">"Password changed."</p> })}
            <button type="submit" class="primary">"Change password"</button>
        </ActionForm>
    }
}
