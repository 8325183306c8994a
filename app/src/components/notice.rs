//! Banners for errors and confirmations, and the page shown when a load fails.

use leptos::prelude::*;

use crate::error::AppError;

/// The outcome of a form: nothing yet, an error banner, or a success banner.
#[component]
pub fn FormResult(
    result: Option<Result<(), AppError>>,
    #[prop(into)] success: String,
) -> impl IntoView {
    match result {
        None => ().into_any(),
        Some(Ok(())) => view! { <p class="notice ok" role="status">{success}</p> }.into_any(),
        Some(Err(err)) => view! { <ErrorNotice err /> }.into_any(),
    }
}

#[component]
pub fn ErrorNotice(err: AppError) -> impl IntoView {
    let field = err.field().map(str::to_owned);
    view! {
        <p class="notice error" role="alert" data-field=field>
            {err.to_string()}
        </p>
    }
}

/// A whole page for a failed load; also sets the response status on the server.
#[component]
pub fn ErrorPage(err: AppError) -> impl IntoView {
    crate::status::set_for(&err);
    let title = match &err {
        AppError::NotFound => "Not found",
        AppError::Forbidden => "Forbidden",
        AppError::Unauthorized => "Signed out",
        AppError::Internal => "Server error",
        _ => "Error",
    };
    view! {
        <section class="error-page">
            <h1>{title}</h1>
            <p>{err.to_string()}</p>
            {matches!(err, AppError::Unauthorized)
                .then(|| view! { <p><a href="/login">"Sign in"</a></p> })}
        </section>
    }
}
