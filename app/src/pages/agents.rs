//! The Agents page (admins): every edge agent of the tenant with what it last reported (buffer
//! depth, oldest buffered batch, last push, drops, certificate expiry), a form that makes a
//! one-time enrollment token, and revocation.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::agents::{list_agents, CreateAgentToken, RevokeAgent};
use crate::components::fields::{error_field, AdminOnly, Field};
use crate::components::notice::{ErrorNotice, ErrorPage};
use crate::model::agent::{AgentHealth, AgentRow, AgentsView, NewToken, TOKEN_LIFETIME_MINUTES};

#[component]
pub fn AgentsPage() -> impl IntoView {
    let create = ServerAction::<CreateAgentToken>::new();
    let revoke = ServerAction::<RevokeAgent>::new();
    let view_data = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_agents(),
    );
    let error = error_field(create.value().into());
    view! {
        <Title text="Agents" />
        <h1>"Agents"</h1>
        <p class="sub">
            "Edge agents collect from the routers at each POP and push here over mutual TLS. "
            "They report their buffer every minute: an agent that holds old batches or drops "
            "samples shows as behind, one that stopped reporting as silent."
        </p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match view_data.await {
                    Ok(data) => view! { <Agents data revoke /> }.into_any(),
                    Err(err) => view! { <ErrorPage err /> }.into_any(),
                }
            })}
        </Suspense>
        <AdminOnly>
        <ActionForm action=create attr:class="card narrow" attr:id="create-agent-form">
            <h2>"Enroll an agent"</h2>
            <p class="hint">
                {format!(
                    "Makes a one-time token, valid for {TOKEN_LIFETIME_MINUTES} minutes. The name of a \
                     live agent makes a new token for it (a replaced box): its old certificate \
                     stops working when it enrolls."
                )}
            </p>
            <Field id="new-agent-name" name="form[name]" label="Name" required=true max=100 error />
            {move || create.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
            <button type="submit" class="primary">"Create token"</button>
        </ActionForm>
        </AdminOnly>
    }
}

#[component]
fn Agents(data: AgentsView, revoke: ServerAction<RevokeAgent>) -> impl IntoView {
    let failure = move || {
        revoke
            .value()
            .get()
            .and_then(Result::err)
            .map(|err| view! { <ErrorNotice err /> })
    };
    view! {
        {data.unavailable.map(|reason| view! { <p class="notice error" id="agents-unavailable">{reason}</p> })}
        {data.new_token.map(|token| view! { <TokenShown token /> })}
        {failure}
        {if data.agents.is_empty() {
            view! { <p class="empty">"No agents yet."</p> }.into_any()
        } else {
            view! { <AgentTable rows=data.agents revoke /> }.into_any()
        }}
    }
}

#[component]
fn TokenShown(token: NewToken) -> impl IntoView {
    let url = token
        .server_url
        .clone()
        .unwrap_or_else(|| "https://<this server>:<AGENT_LISTEN port>".into());
    let command = format!(
        "ISPVM_AGENT_ENROLL_TOKEN='{}' ispvm-agent enroll --server-url {url}",
        token.token
    );
    view! {
        <section class="notice ok" id="new-agent-token" role="status">
            <p>
                "Token for " <strong>{token.agent_name.clone()}</strong>
                ", usable once until " <span class="mono">{token.expires_at.clone()}</span>
                " (UTC). It is not shown again. On the agent's box run:"
            </p>
            <pre class="mono" id="new-agent-command">{command}</pre>
            <p class="mono" id="new-agent-token-text" data-token=token.token.clone()>{token.token.clone()}</p>
        </section>
    }
}

/// A byte count as a person reads it.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Seconds as "42 s", "5 min", "3 h", "2 d".
fn ago(seconds: i64) -> String {
    match seconds.max(0) {
        s if s < 120 => format!("{s} s"),
        s if s < 7_200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3_600),
        s => format!("{} d", s / 86_400),
    }
}

#[component]
fn AgentTable(rows: Vec<AgentRow>, revoke: ServerAction<RevokeAgent>) -> impl IntoView {
    view! {
        <table class="grid" id="agents-table">
            <thead><tr>
                <th>"Name"</th><th>"State"</th><th>"Version"</th><th>"Last report"</th>
                <th>"Buffered"</th><th>"Oldest buffered"</th><th>"Last push"</th>
                <th>"Dropped samples"</th><th>"Certificate until (UTC)"</th><th></th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|a| {
                    let health = a.health();
                    let report = a.report.clone();
                    let state_class = match health {
                        AgentHealth::Ok => "state ok",
                        AgentHealth::Behind | AgentHealth::Pending => "state warn",
                        AgentHealth::Silent | AgentHealth::Revoked => "state crit",
                    };
                    view! {
                        <tr data-name=a.name.clone() data-state=health.label()>
                            <td>{a.name.clone()}<br /><span class="mono hint">{a.id.clone()}</span></td>
                            <td class=state_class>{health.label()}</td>
                            <td class="mono">{a.version.clone().unwrap_or_default()}</td>
                            <td>{report.as_ref().map(|r| format!("{} ago", ago(r.age_s))).unwrap_or_else(|| "never".into())}</td>
                            <td class="num" data-field="buffer">{report.as_ref().map(|r| format!("{} batches, {}", r.buffer_batches, bytes(r.buffer_bytes))).unwrap_or_default()}</td>
                            <td class="num">{report.as_ref().and_then(|r| r.oldest_buffered_s).map(ago).unwrap_or_else(|| "–".into())}</td>
                            <td class="num">{report.as_ref().and_then(|r| r.last_push_s).map(|s| format!("{} ago", ago(s))).unwrap_or_else(|| "never".into())}</td>
                            <td class="num" data-field="dropped">{report.as_ref().map(|r| r.dropped_samples.to_string()).unwrap_or_default()}</td>
                            <td class="mono">{a.certificate_not_after.clone().unwrap_or_default()}</td>
                            <td>
                                {a.revoked_at.is_none().then(|| view! {
                                    <ActionForm action=revoke attr:class="inline">
                                        <input type="hidden" name="id" value=a.id.clone() />
                                        <button type="submit" class="danger">"Revoke"</button>
                                    </ActionForm>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ages_read_well() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 << 30), "3.0 GiB");
        assert_eq!(ago(42), "42 s");
        assert_eq!(ago(600), "10 min");
        assert_eq!(ago(3 * 3600), "3 h");
        assert_eq!(ago(3 * 86_400), "3 d");
        assert_eq!(ago(-5), "0 s");
    }
}
