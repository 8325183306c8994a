//! The inventory's CSV files as plain routes: the multipart upload (a file is not a server
//! function argument) and the exports (a download is not a page). Both sit behind the session
//! and CSRF layers like the pages; the work is `app::api::imports::ssr`.

use axum::body::Body;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use app::api::imports::ssr::{self as imports, Received};
use app::auth::{user_of_session, AuthUser};
use app::error::AppError;
use app::import::MAX_UPLOAD_BYTES;
use app::model::import::ImportKind;
use app::state::AppState;

/// The request body cap of the upload route: the file limit plus room for the form's other
/// parts. A larger file is still read to the end of this (and counted) so that its import can
/// say how large it was; beyond it the request is refused with 413 before any work.
pub const MAX_UPLOAD_BODY: usize = 2 * MAX_UPLOAD_BYTES + 64 * 1024;

/// `POST /inventory/import/upload`: `kind` and `file` parts. Answers with a redirect to the
/// import's page, where the dry run's result (or why the file was rejected) is shown.
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    mut parts: Multipart,
) -> Response {
    let me = match signed_in(&state, &session, "/inventory/import").await {
        Ok(me) => me,
        Err(response) => return response,
    };
    if let Err(err) = me.require_admin() {
        return error(&err);
    }
    let mut kind = String::new();
    let mut filename = String::new();
    let mut kept: Vec<u8> = Vec::new();
    let mut size = 0usize;
    let mut had_file = false;
    loop {
        let mut field = match parts.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => return bad_multipart(&err),
        };
        match field.name() {
            Some("kind") => match field.text().await {
                Ok(text) => kind = text.chars().take(32).collect(),
                Err(err) => return bad_multipart(&err),
            },
            Some("file") => {
                had_file = true;
                filename = field.file_name().unwrap_or_default().to_owned();
                // Keep up to one byte past the limit (enough to know it is too large), count
                // the rest.
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            size += chunk.len();
                            let room = (MAX_UPLOAD_BYTES + 1).saturating_sub(kept.len());
                            kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
                        }
                        Ok(None) => break,
                        Err(err) => return bad_multipart(&err),
                    }
                }
            }
            _ => {}
        }
    }
    if !had_file {
        return error(&AppError::invalid("file", "choose a CSV file to upload"));
    }
    let received = Received {
        kind: &kind,
        filename: &filename,
        bytes: &kept,
        size,
    };
    match imports::upload(&state.pool, &me, &received).await {
        Ok(id) => Redirect::to(&format!("/inventory/import/{}", id.0)).into_response(),
        Err(err) => error(&err),
    }
}

/// `GET /inventory/export/{kind}.csv`: the tenant's objects of that kind as an import file.
pub async fn export(
    State(state): State<AppState>,
    session: Session,
    Path(file): Path<String>,
) -> Response {
    let next = format!("/inventory/export/{file}");
    let me = match signed_in(&state, &session, &next).await {
        Ok(me) => me,
        Err(response) => return response,
    };
    let Some(kind) = file
        .strip_suffix(".csv")
        .and_then(|k| k.parse::<ImportKind>().ok())
    else {
        return error(&AppError::NotFound);
    };
    match imports::export(&state.pool, &me, kind).await {
        Ok(csv) => {
            let date = time::OffsetDateTime::now_utc().date();
            let disposition = format!("attachment; filename=\"ispvm-{kind}-{date}.csv\"");
            let mut response = Response::new(Body::from(csv));
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            if let Ok(value) = HeaderValue::from_str(&disposition) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Err(err) => error(&err),
    }
}

/// The signed-in user, or a redirect to the sign-in page that comes back to `next`.
async fn signed_in(state: &AppState, session: &Session, next: &str) -> Result<AuthUser, Response> {
    match user_of_session(state, session).await {
        Ok(Some(me)) => Ok(me),
        Ok(None) => Err(Redirect::to(&format!("/login?next={next}")).into_response()),
        Err(err) => Err(error(&err)),
    }
}

fn bad_multipart(err: &axum::extract::multipart::MultipartError) -> Response {
    tracing::info!(error = %err, "unreadable import upload");
    let status = err.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return (
            status,
            format!(
                "the upload is larger than {} MB; split the file",
                MAX_UPLOAD_BODY / (1024 * 1024)
            ),
        )
            .into_response();
    }
    error(&AppError::BadRequest(
        "the upload could not be read as a form with a file".to_owned(),
    ))
}

/// A plain-text answer with the error's status and safe message.
fn error(err: &AppError) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, err.to_string()).into_response()
}
