//! Form pieces of the inventory pages: a labelled input that marks itself invalid when the
//! last submit failed on its field, and a wrapper that shows its children to admins only.

use leptos::prelude::*;

use crate::components::layout::UserResource;
use crate::error::AppError;
use crate::model::user::Role;

/// The form field the last result of an action blamed, if any.
pub fn error_field(result: Signal<Option<Result<(), AppError>>>) -> Signal<Option<String>> {
    Signal::derive(move || {
        result
            .get()
            .and_then(Result::err)
            .and_then(|err| err.field().map(str::to_owned))
    })
}

/// A label and a text input named `name`. It is `aria-invalid` (styled red) while `error`
/// names it, so the field the server refused is visible even without JavaScript.
#[component]
pub fn Field(
    /// The element id; labels and tests use it.
    #[prop(into)]
    id: String,
    /// The form field, equal to the server function's argument.
    name: &'static str,
    label: &'static str,
    #[prop(optional, into)] value: String,
    #[prop(optional)] required: bool,
    max: usize,
    #[prop(optional)] placeholder: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    // A struct argument's fields are posted as `form[field]`; errors name just `field`.
    let field = name
        .strip_prefix("form[")
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    let invalid = move || (error.get().as_deref() == Some(field)).then_some("true");
    view! {
        <label for=id.clone()>{label}</label>
        <input id=id name=name type=kind value=value required=required maxlength=max
            placeholder=placeholder autocomplete="off" aria-invalid=invalid />
    }
}

/// Shows `children` only to admins of the tenant: the forms of things only they may change.
/// (The server refuses everyone else anyway; this keeps the page honest.) Waits for the user
/// the layout loads: a page renders alongside it, not after it, so reading it without waiting
/// would find it not loaded yet on the server. Once hydrated the wait is over at once.
#[component]
pub fn AdminOnly(children: ChildrenFn) -> impl IntoView {
    let user = use_context::<UserResource>();
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    let admin = match user {
                        Some(user) => matches!(user.await, Ok(Some(me)) if me.role == Role::Admin),
                        None => false,
                    };
                    admin.then(|| children())
                })
            }}
        </Suspense>
    }
}
