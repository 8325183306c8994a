//! The 404 page, rendered through SSR with status 404.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    crate::status::set(404);
    view! {
        <Title text="Not found" />
        <main id="main" class="error-page">
            <h1>"Not found"</h1>
            <p>"There is no page at this address."</p>
            <p><a href="/">"Back to the home page"</a></p>
        </main>
    }
}
