//! The Agents page (admins): every edge agent of the tenant with what it last reported (buffer
//! depth, oldest buffered batch, last push, drops, certificate expiry), a form that makes a
//! one-time enrollment token, revocation, and the sites each agent serves (assigned and
//! unassigned by plain forms, so it works without JavaScript).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::agents::{
    list_agents, AssignAgentSite, CreateAgentToken, RevokeAgent, UnassignAgentSite,
};
use crate::components::fields::{error_field, AdminOnly, Field};
use crate::components::notice::{ErrorNotice, ErrorPage};
use crate::model::agent::{
    AgentHealth, AgentRow, AgentSite, AgentsView, NewToken, TOKEN_LIFETIME_MINUTES,
};

/// The page's row actions: revoke, assign a site, unassign one.
#[derive(Clone, Copy)]
struct RowActions {
    revoke: ServerAction<RevokeAgent>,
    assign: ServerAction<AssignAgentSite>,
    unassign: ServerAction<UnassignAgentSite>,
}

#[component]
pub fn AgentsPage() -> impl IntoView {
    let create = ServerAction::<CreateAgentToken>::new();
    let actions = RowActions {
        revoke: ServerAction::<RevokeAgent>::new(),
        assign: ServerAction::<AssignAgentSite>::new(),
        unassign: ServerAction::<UnassignAgentSite>::new(),
    };
    let view_data = Resource::new(
        move || {
            (
                create.version().get(),
                actions.revoke.version().get(),
                actions.assign.version().get(),
                actions.unassign.version().get(),
            )
        },
        |_| list_agents(),
    );
    let error = error_field(create.value().into());
    view! {
        <Title text="Agents" />
        <h1>"Agents"</h1>
        <p class="sub">
            "Edge agents collect from the routers at each POP and push here over mutual TLS. "
            "They report their buffer every minute: an agent that holds old batches or drops "
            "samples shows as behind, one that stopped reporting as silent. An agent polls the "
            "enabled devices of the sites it serves, with their credentials, fetched from here."
        </p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match view_data.await {
                    Ok(data) => view! { <Agents data actions /> }.into_any(),
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
fn Agents(data: AgentsView, actions: RowActions) -> impl IntoView {
    let failure = move || {
        actions
            .revoke
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| actions.assign.value().get().and_then(Result::err))
            .or_else(|| actions.unassign.value().get().and_then(Result::err))
            .map(|err| view! { <ErrorNotice err /> })
    };
    view! {
        {data.unavailable.map(|reason| view! { <p class="notice error" id="agents-unavailable">{reason}</p> })}
        {data.new_token.map(|token| view! { <TokenShown token /> })}
        {failure}
        {if data.agents.is_empty() {
            view! { <p class="empty">"No agents yet."</p> }.into_any()
        } else {
            view! { <AgentTable rows=data.agents free=data.free_sites actions /> }.into_any()
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
fn AgentTable(rows: Vec<AgentRow>, free: Vec<AgentSite>, actions: RowActions) -> impl IntoView {
    view! {
        <table class="grid" id="agents-table">
            <thead><tr>
                <th>"Name"</th><th>"State"</th><th>"Version"</th><th>"Last report"</th>
                <th>"Buffered"</th><th>"Oldest buffered"</th><th>"Last push"</th>
                <th>"Dropped samples"</th><th>"Certificate until (UTC)"</th><th>"Sites"</th><th></th>
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
                            <td data-field="sites">
                                <AgentSites agent=a.id.clone() live=a.revoked_at.is_none() sites=a.sites.clone() free=free.clone() actions />
                                {report.as_ref().and_then(|r| {
                                    let revision: String = r.assignment_revision.as_ref()?.chars().take(8).collect();
                                    let fetched = r.assignment_fetched_s.map(|s| format!(", fetched {} ago", ago(s))).unwrap_or_default();
                                    Some(view! { <p class="hint mono" data-field="assignment">{format!("polling revision {revision}{fetched}")}</p> })
                                })}
                            </td>
                            <td>
                                {a.revoked_at.is_none().then(|| view! {
                                    <ActionForm action=actions.revoke attr:class="inline">
                                        <input type="hidden" name="id" value=a.id.clone() />
                                        <button type="submit" class="danger">"Revoke"</button>
                                    </ActionForm>
                                })}
                            </td>
                        </tr>
                    }
                    // Type-erased per row: the row's nested view type is otherwise too deep for
                    // the compiler's layout queries in the hydrate build.
                    .into_any()
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// An agent's sites, each with its unassign button, and a form assigning a free one.
#[component]
fn AgentSites(
    agent: String,
    live: bool,
    sites: Vec<AgentSite>,
    free: Vec<AgentSite>,
    actions: RowActions,
) -> impl IntoView {
    let assign_form = (live && !free.is_empty()).then(|| {
        let agent = agent.clone();
        view! {
            <ActionForm action=actions.assign attr:class="inline assign-site">
                <input type="hidden" name="agent" value=agent />
                <select name="site" aria-label="Site to assign">
                    {free.into_iter().map(|s| view! {
                        <option value=s.id.to_string()>{format!("{} {}", s.code, s.name)}</option>
                    }).collect_view()}
                </select>
                <button type="submit">"Assign"</button>
            </ActionForm>
        }
    });
    view! {
        <ul class="agent-sites">
            {sites.into_iter().map(|s| {
                let agent = agent.clone();
                view! {
                    <li data-site=s.code.clone()>
                        <span class="mono">{s.code.clone()}</span>" "{s.name.clone()}
                        <ActionForm action=actions.unassign attr:class="inline">
                            <input type="hidden" name="agent" value=agent />
                            <input type="hidden" name="site" value=s.id.to_string() />
                            <button type="submit" class="link">"Unassign"</button>
                        </ActionForm>
                    </li>
                }
            }).collect_view()}
        </ul>
        {assign_form}
    }
    .into_any()
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
