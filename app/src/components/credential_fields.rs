//! The secret inputs of a credential profile form, one fieldset per kind. Their `name`s are the
//! fields of `CredentialForm` (`form[password]`, ...), the argument of `create_credential_profile`
//! and `update_credential_profile`.
//!
//! Secret inputs are never given a value: what is stored is not sent back to the browser, and a
//! blank field on the edit form keeps it.

use leptos::prelude::*;

use crate::model::credential::{
    CredentialKind, SnmpAuthProtocol, SnmpPrivProtocol, COMMUNITY_MAX, LOGIN_NAME_MAX,
    PASSPHRASE_MAX, PASSWORD_MAX, PRIV_NONE,
};

/// The fieldset of one kind. `editing`: blank fields keep the stored values, and the protocol
/// selects start at "keep". `hidden` hides it (the create form shows only the chosen kind's
/// once hydrated; without JavaScript it shows them all and the server reads the chosen one's).
#[component]
pub fn SecretFields(
    kind: CredentialKind,
    editing: bool,
    #[prop(into, default = Signal::stored(false))] hidden: Signal<bool>,
) -> impl IntoView {
    let keep = if editing { "leave blank to keep" } else { "" };
    let id = move |field: &str| format!("{}-{field}", kind.as_str());
    let fields = match kind {
        CredentialKind::RouterOs => view! {
            <label for=id("username")>"Username"</label>
            <input id=id("username") name="form[username]" type="text" maxlength=LOGIN_NAME_MAX.to_string()
                autocomplete="off" placeholder=keep />
            <label for=id("password")>"Password"</label>
            <input id=id("password") name="form[password]" type="password" maxlength=PASSWORD_MAX.to_string()
                autocomplete="new-password" placeholder=keep />
        }
        .into_any(),
        CredentialKind::SnmpV2c => view! {
            <label for=id("community")>"Community"</label>
            <input id=id("community") name="form[community]" type="password" maxlength=COMMUNITY_MAX.to_string()
                autocomplete="off" placeholder=keep />
        }
        .into_any(),
        CredentialKind::SnmpV3 => view! {
            <label for=id("snmp-user")>"User (security name)"</label>
            <input id=id("snmp-user") name="form[snmp_user]" type="text" maxlength=LOGIN_NAME_MAX.to_string()
                autocomplete="off" placeholder=keep />
            <label for=id("auth-protocol")>"Authentication"</label>
            <select id=id("auth-protocol") name="form[auth_protocol]">
                {editing.then(|| view! { <option value="" selected>"(keep)"</option> })}
                {SnmpAuthProtocol::ALL.into_iter().map(|p| view! {
                    <option value=p.as_str() selected=!editing && p == SnmpAuthProtocol::Sha256>
                        {p.as_str()}
                    </option>
                }).collect_view()}
            </select>
            <label for=id("auth-passphrase")>"Authentication passphrase (at least 8 characters)"</label>
            <input id=id("auth-passphrase") name="form[auth_passphrase]" type="password"
                maxlength=PASSPHRASE_MAX.to_string() autocomplete="new-password" placeholder=keep />
            <label for=id("priv-protocol")>"Privacy"</label>
            <select id=id("priv-protocol") name="form[priv_protocol]">
                {editing.then(|| view! { <option value="" selected>"(keep)"</option> })}
                <option value=PRIV_NONE>"none (authNoPriv)"</option>
                {SnmpPrivProtocol::ALL.into_iter().map(|p| view! {
                    <option value=p.as_str() selected=!editing && p == SnmpPrivProtocol::Aes128>
                        {p.as_str()}
                    </option>
                }).collect_view()}
            </select>
            <label for=id("priv-passphrase")>"Privacy passphrase (at least 8 characters)"</label>
            <input id=id("priv-passphrase") name="form[priv_passphrase]" type="password"
                maxlength=PASSPHRASE_MAX.to_string() autocomplete="new-password" placeholder=keep />
        }
        .into_any(),
    };
    view! {
        <fieldset class="secret-fields" data-kind=kind.as_str() hidden=move || hidden.get()>
            <legend>{kind.label()}</legend>
            {fields}
        </fieldset>
    }
}
