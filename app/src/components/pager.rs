//! "Page 2 of 7" with previous/next links that keep the list's other query parameters.

use leptos::prelude::*;

/// Links to `path?<params>&page=N`; blank params are left out.
#[component]
pub fn Pager(
    path: &'static str,
    params: Vec<(&'static str, String)>,
    page: i64,
    pages: i64,
) -> impl IntoView {
    let pairs: Vec<(&str, Option<String>)> =
        params.into_iter().map(|(k, v)| (k, Some(v))).collect();
    let query = query_string(&pairs);
    let href = move |p: i64| {
        if query.is_empty() {
            format!("{path}?page={p}")
        } else {
            format!("{path}?{query}&page={p}")
        }
    };
    (pages > 1).then(|| {
        view! {
            <nav class="pager" aria-label="Pages">
                {(page > 1).then(|| view! { <a rel="prev" href=href(page - 1)>"← Previous"</a> })}
                <span class="count">{format!("Page {page} of {pages}")}</span>
                {(page < pages).then(|| view! { <a rel="next" href=href(page + 1)>"Next →"</a> })}
            </nav>
        }
    })
}

/// Encodes `key=value` pairs for a query string, skipping empty values.
pub fn query_string(pairs: &[(&str, Option<String>)]) -> String {
    pairs
        .iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", encode(v)))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but unreserved characters (RFC 3986 §2.3).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::query_string;

    #[test]
    fn skips_blanks_and_encodes() {
        let q = query_string(&[
            ("q", Some("core 1&x".into())),
            ("site", None),
            ("role", Some(String::new())),
            ("tag", Some("pop:vie".into())),
        ]);
        assert_eq!(q, "q=core%201%26x&tag=pop%3Avie");
    }
}
