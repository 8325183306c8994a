//! ISPVM's web app: the Leptos components and server functions shared by the server (SSR,
//! feature `ssr`) and the browser (hydration, feature `hydrate`).
//!
//! Layers: `model` (wire types, pure), `api` (server functions), `pages` (one routed page per
//! file), `components` (view pieces without server calls); server-only: `db` (all SQL), `auth`,
//! `crypto` (secrets at rest), `state`.

pub mod api;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;
pub mod status;

#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod charts;
#[cfg(feature = "ssr")]
pub mod crypto;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod import;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::components::layout::Layout;
use crate::pages::agents::AgentsPage;
use crate::pages::device::DevicePage;
use crate::pages::devices::DevicesPage;
use crate::pages::discovery::DiscoveryPage;
use crate::pages::groups::GroupsPage;
use crate::pages::import::ImportPage;
use crate::pages::imports::ImportsPage;
use crate::pages::site::SitePage;
use crate::pages::sites::SitesPage;
use crate::pages::{
    account::AccountPage, audit::AuditPage, home::HomePage, login::LoginPage,
    not_found::NotFoundPage, user::UserPage, users::UsersPage,
};
use crate::pages::{credential::CredentialPage, credentials::CredentialsPage};
use crate::pages::{
    customer::CustomerPage, customers::CustomersPage, service::ServicePage, services::ServicesPage,
};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: leptos::config::LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="dark" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The routed app. Every route renders in `SsrMode::Async` so that redirects and status codes
/// (401 → sign-in, 404, 500) are decided before the first byte is sent.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Runs only in the browser: marks the document once hydration has happened (used by the
    // browser tests and harmless otherwise).
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/ispvm.css" />
        <Title formatter=|t: String| if t.is_empty() { "ISPVM".to_owned() } else { format!("{t} · ISPVM") } />
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=Layout ssr=SsrMode::Async>
                    <Route path=path!("") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/users") view=UsersPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/users/:id") view=UserPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit") view=AuditPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/agents") view=AgentsPage ssr=SsrMode::Async />
                    <Route path=path!("/inventory/sites") view=SitesPage ssr=SsrMode::Async />
                    <Route path=path!("/inventory/sites/:id") view=SitePage ssr=SsrMode::Async />
                    <Route path=path!("/inventory/devices") view=DevicesPage ssr=SsrMode::Async />
                    <Route path=path!("/inventory/devices/:id") view=DevicePage ssr=SsrMode::Async />
                    <Route path=path!("/inventory/groups") view=GroupsPage ssr=SsrMode::Async />
                    <Route path=path!("/inventory/discovery") view=DiscoveryPage ssr=SsrMode::Async />
                    <Route path=path!("/inventory/import") view=ImportsPage ssr=SsrMode::Async />
                    <Route path=path!("/inventory/import/:id") view=ImportPage ssr=SsrMode::Async />
                    <Route path=path!("/inventory/credentials") view=CredentialsPage ssr=SsrMode::Async />
                    <Route path=path!("/inventory/credentials/:id") view=CredentialPage ssr=SsrMode::Async />
                    <Route path=path!("/inventory/customers") view=CustomersPage ssr=SsrMode::Async />
                    <Route path=path!("/inventory/customers/:id") view=CustomerPage ssr=SsrMode::Async />
                    <Route path=path!("/inventory/services") view=ServicesPage ssr=SsrMode::Async />
                    <Route path=path!("/inventory/services/:id") view=ServicePage ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
