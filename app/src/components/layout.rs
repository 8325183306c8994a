//! The signed-in layout: navigation, the user menu and the page outlet. Signed-out visitors are
//! redirected to the sign-in page with `next` set.

use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};
use leptos_router::hooks::use_location;

use crate::api::auth::{get_current_user, Logout};
use crate::components::notice::ErrorPage;
use crate::error::AppError;
use crate::model::user::{CurrentUser, Role};

/// The signed-in user's resource, provided to every page inside the layout.
pub type UserResource = Resource<Result<Option<CurrentUser>, AppError>>;

#[component]
pub fn Layout() -> impl IntoView {
    let user: UserResource = Resource::new(|| (), |_| get_current_user());
    provide_context(user);
    let location = use_location();
    let logout = ServerAction::<Logout>::new();
    // The outlet stays outside the Suspense: tachys invokes a reactive closure more than once
    // while it renders on the server (`dry_resolve`, then `resolve`), so a page placed inside
    // the closure was built several times per request, each time with new resources. The
    // browser builds it once and then read the first server copy's data (of a page whose owner
    // was already gone, so its server functions had failed): hydration panicked on the
    // customer page, and every page ran its queries several times.
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(me)) => view! { <Nav me=me logout /> }.into_any(),
                    Ok(None) => {
                        let here = location.pathname.get_untracked();
                        let next = if here == "/" { String::new() } else { format!("?next={here}") };
                        view! { <Redirect path=format!("/login{next}") /> }.into_any()
                    }
                    Err(err) => view! { <ErrorPage err /> }.into_any(),
                }
            })}
        </Suspense>
        <main id="main">
            <Outlet />
        </main>
    }
}

#[component]
fn Nav(me: CurrentUser, logout: ServerAction<Logout>) -> impl IntoView {
    let admin = me.role == Role::Admin;
    view! {
        <header class="topbar">
            <a class="brand" href="/">"ISPVM"</a>
            <nav aria-label="Main">
                <A href="/" exact=true>"Home"</A>
                {me.role.is_staff().then(|| view! {
                    <A href="/inventory/sites">"Sites"</A>
                    <A href="/inventory/devices">"Devices"</A>
                    <A href="/inventory/groups">"Groups"</A>
                    <A href="/inventory/discovery">"Discovery"</A>
                    <A href="/inventory/customers">"Customers"</A>
                    <A href="/inventory/services">"Services"</A>
                })}
                {me.role.is_staff().then(|| view! { <A href="/inventory/credentials">"Credentials"</A> })}
                {admin.then(|| view! {
                    <A href="/inventory/import">"Import"</A>
                    <A href="/admin/agents">"Agents"</A>
                    <A href="/admin/users">"Users"</A>
                    <A href="/admin/audit">"Audit log"</A>
                })}
            </nav>
            <div class="user-menu">
                <A href="/account">
                    <span class="who">{me.username.clone()}</span>
                    " · "
                    <span class="role">{me.role.as_str()}</span>
                    " · "
                    <span class="tenant">{me.tenant_name.clone()}</span>
                </A>
                <ActionForm action=logout attr:class="inline">
                    <button type="submit" class="link">"Sign out"</button>
                </ActionForm>
            </div>
        </header>
    }
}
