//! The sign-in page. Works without JavaScript: the form posts to the `login` server function,
//! which redirects on success and sends errors back in the URL.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::Login;
use crate::components::notice::ErrorNotice;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next")).unwrap_or_default();
    view! {
        <Title text="Sign in" />
        <main id="main" class="login">
            <h1>"ISPVM"</h1>
            <p class="sub">"Network monitoring for MikroTik-first ISPs"</p>
            <ActionForm action=login attr:class="card" attr:id="login-form">
                <input type="hidden" name="next" value=next />
                <label for="username">"Username"</label>
                <input id="username" name="username" type="text" autocomplete="username"
                    required maxlength="64" autofocus />
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password"
                    autocomplete="current-password" required maxlength="256" />
                {move || login.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                <button type="submit" class="primary">"Sign in"</button>
            </ActionForm>
        </main>
    }
}
