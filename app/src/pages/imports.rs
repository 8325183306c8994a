//! The import page: upload a CSV file for a dry run, download exports, and the recent imports.
//! The upload is a plain multipart form (`POST /inventory/import/upload`), so it works the same
//! with JavaScript on or off; the server answers with the import's own page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::imports::list_imports;
use crate::components::notice::ErrorPage;
use crate::model::import::{ImportKind, ImportRow};

#[component]
pub fn ImportsPage() -> impl IntoView {
    let imports = Resource::new(|| (), |_| list_imports());
    view! {
        <Title text="Import and export" />
        <h1>"Import and export"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match imports.await {
                    Ok(rows) => view! { <UploadForm /> <Recent rows /> }.into_any(),
                    Err(err) => view! { <ErrorPage err /> }.into_any(),
                }
            })}
        </Suspense>
        <section class="card">
            <h2>"Export"</h2>
            <p>"Each file is a valid import of the same kind: edit it and import it back."</p>
            <ul class="exports">
                {ImportKind::ALL.iter().map(|k| view! {
                    <li><a rel="external" href=format!("/inventory/export/{k}.csv")>{format!("{k}.csv")}</a></li>
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn UploadForm() -> impl IntoView {
    view! {
        <form class="card narrow" id="import-form" method="post" action="/inventory/import/upload"
            enctype="multipart/form-data">
            <h2>"Import a CSV file"</h2>
            <p>
                "Import in this order: sites, devices, interfaces, links, groups, customers, "
                "services. Rows are matched by site code, device name, device and interface name, "
                "link ends and kind, group name, customer account id or service name: a match is "
                "updated, anything else is added. Uploading only checks the file (a dry run); "
                "nothing changes until you apply it, and then every row or none."
            </p>
            <label for="import-kind">"The file holds"</label>
            <select id="import-kind" name="kind" required>
                {ImportKind::ALL.iter().map(|k| view! { <option value=k.as_str()>{k.as_str()}</option> }).collect_view()}
            </select>
            <label for="import-file">"CSV file (UTF-8, at most 5 MB)"</label>
            <input id="import-file" name="file" type="file" accept=".csv,text/csv" required />
            <button type="submit" class="primary">"Check file"</button>
        </form>
    }
}

#[component]
fn Recent(rows: Vec<ImportRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="empty">"No imports yet."</p> }.into_any();
    }
    view! {
        <h2>"Recent imports"</h2>
        <table class="grid" id="imports-table">
            <thead><tr>
                <th>"File"</th><th>"Kind"</th><th>"Status"</th><th>"Rows"</th><th>"Errors"</th>
                <th>"By"</th><th>"Uploaded"</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|r| view! {
                    <tr>
                        <td><a href=format!("/inventory/import/{}", r.id.0)>{r.filename}</a></td>
                        <td>{r.kind.as_str()}</td>
                        <td class=format!("status {}", r.status)>{r.status.as_str()}</td>
                        <td>{r.data_rows}</td>
                        <td>{r.error_count}</td>
                        <td>{r.created_by.unwrap_or_default()}</td>
                        <td class="mono">{r.created_at}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
