//! One site: its details, the topology drawing, and (for admins) edit and delete.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::sites::{get_site, site_topology, DeleteSite, UpdateSite};
use crate::components::fields::{error_field, AdminOnly, Field};
use crate::components::notice::{ErrorNotice, ErrorPage};
use crate::error::AppError;
use crate::model::site::SiteRow;

#[component]
pub fn SitePage() -> impl IntoView {
    let params = use_params_map();
    let update = ServerAction::<UpdateSite>::new();
    let delete = ServerAction::<DeleteSite>::new();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let site = Resource::new(
        move || (id(), update.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_site(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    let drawing = Resource::new(id, |id| async move {
        match id {
            Some(id) => site_topology(id).await,
            None => Err(AppError::NotFound),
        }
    });
    view! {
        <Title text="Site" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match site.await {
                    Ok(s) => view! { <SiteDetail s update delete /> }.into_any(),
                    Err(err) => view! { <ErrorPage err /> }.into_any(),
                }
            })}
        </Suspense>
        <section class="card wide">
            <h2>"Topology"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Drawing…"</p> }>
                {move || Suspend::new(async move {
                    match drawing.await {
                        // The SVG is built by the server from escaped text (charts::topology).
                        Ok(svg) => view! { <div class="topology-view" id="site-topology" inner_html=svg></div> }.into_any(),
                        Err(err) => view! { <ErrorNotice err /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn SiteDetail(
    s: SiteRow,
    update: ServerAction<UpdateSite>,
    delete: ServerAction<DeleteSite>,
) -> impl IntoView {
    let error = error_field(update.value().into());
    let coordinates = match (s.latitude, s.longitude) {
        (Some(lat), Some(lon)) => format!("{lat:.5}, {lon:.5}"),
        _ => "—".to_owned(),
    };
    let id = s.id.0;
    // Copy, so that the admin-only children (called again whenever the user reloads) can use it.
    let site = StoredValue::new(s.clone());
    let field = move |f: fn(&SiteRow) -> String| site.with_value(f);
    view! {
        <h1>{s.name.clone()} " " <span class="mono sub" id="site-code">{s.code.clone()}</span></h1>
        <dl class="fields">
            <dt>"Region"</dt><dd>{s.region.clone()}</dd>
            <dt>"Address"</dt><dd>{s.address.clone()}</dd>
            <dt>"Coordinates"</dt><dd>{coordinates}</dd>
            <dt>"Time zone"</dt><dd>{s.timezone.clone()}</dd>
            <dt>"Devices"</dt>
            <dd><a id="site-devices" href=format!("/inventory/devices?site={id}")>{format!("{} devices", s.device_count)}</a></dd>
        </dl>
        <AdminOnly>
            <div class="cards">
                <ActionForm action=update attr:class="card narrow" attr:id="edit-site-form">
                    <h2>"Edit"</h2>
                    <input type="hidden" name="id" value=id />
                    <Field id="site-name" name="form[name]" label="Name" value=field(|s| s.name.clone()) required=true max=100 error />
                    <Field id="site-code-input" name="form[code]" label="Code" value=field(|s| s.code.clone()) required=true max=16 error />
                    <Field id="site-region" name="form[region]" label="Region" value=field(|s| s.region.clone()) max=100 error />
                    <Field id="site-address" name="form[address]" label="Address" value=field(|s| s.address.clone()) max=300 error />
                    <Field id="site-latitude" name="form[latitude]" label="Latitude"
                        value=field(|s| s.latitude.map(|v| v.to_string()).unwrap_or_default()) max=20 error />
                    <Field id="site-longitude" name="form[longitude]" label="Longitude"
                        value=field(|s| s.longitude.map(|v| v.to_string()).unwrap_or_default()) max=20 error />
                    <Field id="site-timezone" name="form[timezone]" label="Time zone" value=field(|s| s.timezone.clone()) max=64 error />
                    {move || update.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                    <button type="submit" class="primary">"Save"</button>
                </ActionForm>
                <ActionForm action=delete attr:class="card narrow" attr:id="delete-site-form">
                    <h2>"Delete"</h2>
                    <p>"Only a site without devices can be deleted."</p>
                    <input type="hidden" name="id" value=id />
                    {move || delete.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                    <button type="submit" class="danger">"Delete site"</button>
                </ActionForm>
            </div>
        </AdminOnly>
    }
}
