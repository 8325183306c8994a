//! One import: what the dry run found (or what applying did), the row errors with their line
//! and column, and the button that applies a clean file.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::imports::{get_import, ApplyImport};
use crate::components::notice::{ErrorNotice, ErrorPage};
use crate::error::AppError;
use crate::model::import::{ImportDetail, ImportStatus, PREVIEW_ROWS};

#[component]
pub fn ImportPage() -> impl IntoView {
    let params = use_params_map();
    let apply = ServerAction::<ApplyImport>::new();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let import = Resource::new(
        move || (id(), apply.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_import(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    view! {
        <Title text="Import" />
        <p class="crumbs"><a href="/inventory/import">"Import and export"</a></p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match import.await {
                    Ok(detail) => view! { <Detail detail apply /> }.into_any(),
                    Err(err) => view! { <ErrorPage err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Detail(detail: ImportDetail, apply: ServerAction<ApplyImport>) -> impl IntoView {
    let can_apply = detail.can_apply();
    let id = detail.id.0;
    let verdict = match (detail.status, &detail.file_error, detail.error_count) {
        (ImportStatus::Rejected, Some(reason), _) => format!("The file was rejected: {reason}"),
        (_, Some(reason), _) => format!("Nothing can be imported: {reason}"),
        (ImportStatus::Applied, None, _) => "Applied.".to_owned(),
        (_, None, 0) => "The file is clean: applying it makes the changes below.".to_owned(),
        (_, None, n) => format!(
            "{n} row{} cannot be imported; nothing will be imported until the file is fixed \
             and uploaded again.",
            if n == 1 { "" } else { "s" }
        ),
    };
    let bad = detail.file_error.is_some() || detail.error_count > 0;
    view! {
        <h1>{format!("Import of {} ({})", detail.filename, detail.kind)}</h1>
        <p id="import-status" class=if bad { "notice error" } else { "notice ok" } role="status">
            {verdict}
        </p>
        <dl class="facts">
            <dt>"Status"</dt><dd id="import-state">{detail.status.as_str()}</dd>
            <dt>"Rows"</dt><dd>{detail.data_rows}</dd>
            <dt>"New"</dt><dd id="import-created">{detail.created_rows}</dd>
            <dt>"Updated"</dt><dd id="import-updated">{detail.updated_rows}</dd>
            <dt>"Unchanged"</dt><dd id="import-unchanged">{detail.unchanged_rows}</dd>
            <dt>"Errors"</dt><dd id="import-error-count">{detail.error_count}</dd>
            <dt>"Size"</dt><dd>{format!("{} bytes", detail.size_bytes)}</dd>
            <dt>"Uploaded"</dt>
            <dd>{format!("{} by {}", detail.created_at, detail.created_by.clone().unwrap_or_default())}</dd>
            {detail.applied_at.clone().map(|at| view! {
                <dt>"Applied"</dt>
                <dd>{format!("{at} by {}", detail.applied_by.clone().unwrap_or_default())}</dd>
            })}
        </dl>
        {can_apply.then(|| view! {
            <ActionForm action=apply attr:id="apply-import-form" attr:class="inline">
                <input type="hidden" name="id" value=id />
                <button type="submit" class="primary">"Apply import"</button>
            </ActionForm>
        })}
        {move || apply.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
        {(!detail.errors.is_empty()).then(|| view! {
            <h2>"Row errors"</h2>
            <table class="grid" id="import-errors">
                <thead><tr><th>"Line"</th><th>"Column"</th><th>"Problem"</th></tr></thead>
                <tbody>
                    {detail.errors.into_iter().map(|e| view! {
                        <tr>
                            <td>{e.line}</td>
                            <td class="mono">{e.column.unwrap_or_default()}</td>
                            <td>{e.message}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        })}
        {(!detail.preview.is_empty()).then(|| view! {
            <h2>{if detail.status == ImportStatus::Applied { "What changed" } else { "What applying does" }}</h2>
            {(detail.data_rows > PREVIEW_ROWS as i64).then(|| view! {
                <p class="hint">{format!("The first {PREVIEW_ROWS} rows; the counts above cover all.")}</p>
            })}
            <table class="grid" id="import-preview">
                <thead><tr><th>"Line"</th><th>"Row"</th><th>"Action"</th></tr></thead>
                <tbody>
                    {detail.preview.into_iter().map(|p| view! {
                        <tr>
                            <td>{p.line}</td>
                            <td>{p.key}</td>
                            <td class=format!("action {}", p.action)>{p.action.as_str()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        })}
    }
}
