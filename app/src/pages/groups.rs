//! Redundancy groups: each with its rule and members; admins add and remove members, create and
//! delete groups. A group says when the links or devices it holds count as up together
//! ("any", "all", "k of n"), which the blast radius and upstream paths honour.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::groups::{
    list_groups, AddGroupMember, CreateGroup, DeleteGroup, RemoveGroupMember,
};
use crate::api::services::list_dependency_choices;
use crate::components::fields::{error_field, AdminOnly, Field};
use crate::components::notice::{ErrorNotice, ErrorPage};
use crate::model::group::{GroupRow, GroupRule};
use crate::model::service::DependencyChoices;

/// The page's forms, passed down together.
#[derive(Clone, Copy)]
struct Actions {
    create: ServerAction<CreateGroup>,
    delete: ServerAction<DeleteGroup>,
    add: ServerAction<AddGroupMember>,
    remove: ServerAction<RemoveGroupMember>,
}

#[component]
pub fn GroupsPage() -> impl IntoView {
    let actions = Actions {
        create: ServerAction::new(),
        delete: ServerAction::new(),
        add: ServerAction::new(),
        remove: ServerAction::new(),
    };
    let groups = Resource::new(
        move || {
            (
                actions.create.version().get(),
                actions.delete.version().get(),
                actions.add.version().get(),
                actions.remove.version().get(),
            )
        },
        |_| list_groups(),
    );
    let choices = Resource::new(|| (), |_| list_dependency_choices());
    let error = error_field(actions.create.value().into());
    view! {
        <Title text="Redundancy groups" />
        <h1>"Redundancy groups"</h1>
        <p class="hint">
            "A group is up when its rule holds over its members: any one, all, or k of them. A "
            "device whose uplinks sit in a group depends on the group, not on each uplink."
        </p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (groups.await, choices.await) {
                    (Ok(groups), Ok(choices)) => view! { <GroupList groups choices actions /> }.into_any(),
                    (Err(err), _) | (_, Err(err)) => view! { <ErrorPage err /> }.into_any(),
                }
            })}
            <AdminOnly>
                <ActionForm action=actions.create attr:class="card narrow" attr:id="create-group-form">
                    <h2>"Add a group"</h2>
                    <Field id="new-group-name" name="form[name]" label="Name" required=true max=100 error />
                    <label for="new-group-rule">"Rule"</label>
                    <select id="new-group-rule" name="form[rule]">
                        {GroupRule::ALL.iter().map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> }).collect_view()}
                    </select>
                    <Field id="new-group-k" name="form[k]" label="k (for k_of_n)" max=4 error />
                    <Field id="new-group-description" name="form[description]" label="Description" max=300 error />
                    {move || actions.create.value().get().and_then(Result::err).map(|err| view! { <ErrorNotice err /> })}
                    <button type="submit" class="primary">"Add group"</button>
                </ActionForm>
            </AdminOnly>
        </Suspense>
    }
}

#[component]
fn GroupList(groups: Vec<GroupRow>, choices: DependencyChoices, actions: Actions) -> impl IntoView {
    if groups.is_empty() {
        return view! { <p class="empty">"No redundancy groups yet."</p> }.into_any();
    }
    // What an admin may add to a group: every link and device, as (value, label).
    let options: Vec<(String, String)> = choices
        .links
        .iter()
        .map(|c| (format!("link:{}", c.id), format!("link {}", c.label)))
        .chain(
            choices
                .devices
                .iter()
                .map(|c| (format!("device:{}", c.id), format!("device {}", c.label))),
        )
        .collect();
    let failure = move || {
        [
            actions.add.value().get(),
            actions.remove.value().get(),
            actions.delete.value().get(),
        ]
        .into_iter()
        .flatten()
        .find_map(Result::err)
        .map(|err| view! { <ErrorNotice err /> })
    };
    view! {
        {failure}
        <div id="groups">
            {groups.into_iter().map(|g| view! { <Group g options=options.clone() actions /> }).collect_view()}
        </div>
    }
    .into_any()
}

#[component]
fn Group(g: GroupRow, options: Vec<(String, String)>, actions: Actions) -> impl IntoView {
    let id = g.id.0;
    let rule = g.rule_label();
    view! {
        <section class="card group" data-group=g.name.clone()>
            <h2>{g.name.clone()} " " <span class="badge">{rule}</span></h2>
            {(!g.description.is_empty()).then(|| view! { <p>{g.description.clone()}</p> })}
            <ul class="members">
                {g.members.into_iter().map(|(member_id, label)| view! {
                    <li>
                        {label}
                        <AdminOnly>
                            <ActionForm action=actions.remove attr:class="inline">
                                <input type="hidden" name="group_id" value=id />
                                <input type="hidden" name="member_id" value=member_id />
                                <button type="submit" class="link">"remove"</button>
                            </ActionForm>
                        </AdminOnly>
                    </li>
                }).collect_view()}
            </ul>
            <AdminOnly>
                <AddMember id options=options.clone() add=actions.add />
                <ActionForm action=actions.delete attr:class="inline">
                    <input type="hidden" name="id" value=id />
                    <button type="submit" class="danger">"Delete group"</button>
                </ActionForm>
            </AdminOnly>
        </section>
    }
}

#[component]
fn AddMember(
    id: i64,
    options: Vec<(String, String)>,
    add: ServerAction<AddGroupMember>,
) -> impl IntoView {
    view! {
        <ActionForm action=add attr:class="inline">
            <input type="hidden" name="group_id" value=id />
            <label for=format!("member-{id}")>"Add"</label>
            <select id=format!("member-{id}") name="member">
                {options.into_iter().map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
            </select>
            <button type="submit">"Add member"</button>
        </ActionForm>
    }
}
