//! The discovery review (`/inventory/discovery`): links proposed from the routers' neighbour
//! tables, each with its state. Admins and operators accept, replace or dismiss; viewers see
//! the list only. The forms post to server functions and come back here, with or without
//! JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::discovery::{
    list_discovery, AcceptDiscoveredLink, DismissDiscoveredLink, ReplaceWithDiscoveredLink,
};
use crate::components::notice::{ErrorNotice, ErrorPage};
use crate::model::discovery::{Discovery, End, Proposal, ProposalState};

/// The page's forms, passed down together.
#[derive(Clone, Copy)]
struct Actions {
    accept: ServerAction<AcceptDiscoveredLink>,
    replace: ServerAction<ReplaceWithDiscoveredLink>,
    dismiss: ServerAction<DismissDiscoveredLink>,
}

#[component]
pub fn DiscoveryPage() -> impl IntoView {
    let actions = Actions {
        accept: ServerAction::new(),
        replace: ServerAction::new(),
        dismiss: ServerAction::new(),
    };
    let discovery = Resource::new(
        move || {
            (
                actions.accept.version().get(),
                actions.replace.version().get(),
                actions.dismiss.version().get(),
            )
        },
        |_| list_discovery(),
    );
    let failure = move || {
        [
            actions.accept.value().get(),
            actions.replace.value().get(),
            actions.dismiss.value().get(),
        ]
        .into_iter()
        .flatten()
        .find_map(Result::err)
        .map(|err| view! { <ErrorNotice err /> })
    };
    view! {
        <Title text="Link discovery" />
        <h1>"Link discovery"</h1>
        <p class="hint">
            "What the routers' neighbour tables (MNDP, LLDP, CDP) say is connected, matched with "
            "the inventory: by device name = identity, else by management address. Accepting "
            "creates the link (the end nearer the edge is upstream; equal roles make a peer "
            "link). A link that differs is only replaced when you choose to. Neighbours not "
            "heard for 7 days drop off the list."
        </p>
        {failure}
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match discovery.await {
                    Ok(d) => view! { <Proposals d actions /> }.into_any(),
                    Err(err) => view! { <ErrorPage err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Proposals(d: Discovery, actions: Actions) -> impl IntoView {
    let hidden = (d.dismissed > 0).then(|| {
        view! { <p class="hint">{format!("{} dismissed proposals are hidden until their neighbours change.", d.dismissed)}</p> }
    });
    if d.proposals.is_empty() {
        return view! { <p class="empty">"No neighbours reported yet."</p> {hidden} }.into_any();
    }
    let can_review = d.can_review;
    view! {
        <table class="grid" id="discovery-table">
            <thead><tr>
                <th>"State"</th><th>"Upstream end"</th><th>"Other end"</th><th>"Link"</th>
                <th>"Last seen"</th><th></th>
            </tr></thead>
            <tbody>
                {d.proposals.into_iter().map(|p| view! { <Row p can_review actions /> }).collect_view()}
            </tbody>
        </table>
        {hidden}
    }
    .into_any()
}

fn end(e: &End) -> String {
    match &e.interface {
        Some(i) => format!("{} {i}", e.name),
        None => e.name.clone(),
    }
}

#[component]
fn Row(p: Proposal, can_review: bool, actions: Actions) -> impl IntoView {
    let key = p.key;
    let state = match p.state {
        ProposalState::Unknown => "unknown device",
        other => other.as_str(),
    };
    let link = match (&p.link, p.state) {
        (Some((_, label)), _) => label.clone(),
        (None, ProposalState::Unknown) => p.remote.clone(),
        (None, _) => format!(
            "{} {}",
            p.kind,
            if p.upstream { "upstream" } else { "peer" }
        ),
    };
    let heard = if p.both_ends { " (both ends)" } else { "" };
    let replace_link = p.link.as_ref().map(|l| l.0 .0);
    let forms = can_review.then(|| {
        view! {
            {(p.state == ProposalState::New).then(|| view! {
                <ActionForm action=actions.accept attr:class="inline">
                    <input type="hidden" name="key" value=key />
                    <button type="submit" class="primary">"Accept"</button>
                </ActionForm>
            })}
            {(p.state == ProposalState::Differs).then(|| view! {
                <ActionForm action=actions.replace attr:class="inline">
                    <input type="hidden" name="key" value=key />
                    <input type="hidden" name="link" value=replace_link.unwrap_or_default() />
                    <button type="submit" class="danger">"Accept and replace"</button>
                </ActionForm>
            })}
            {(p.state != ProposalState::Matches).then(|| view! {
                <ActionForm action=actions.dismiss attr:class="inline">
                    <input type="hidden" name="key" value=key />
                    <button type="submit" class="link">"Dismiss"</button>
                </ActionForm>
            })}
        }
    });
    view! {
        <tr data-key=key data-state=p.state.as_str()>
            <td class=format!("status {}", p.state)>{state}</td>
            <td>{end(&p.a)}</td>
            <td>{end(&p.b)}{heard}</td>
            <td>{link}</td>
            <td class="mono">{p.last_seen.clone()}</td>
            <td>{forms}</td>
        </tr>
    }
}
