//! The fields of a device, shared by the create form (empty) and the edit form (filled in).
//! Input names are `form[<field>]`, the fields of `DeviceForm`.

use leptos::prelude::*;

use crate::components::fields::Field;
use crate::model::device::{
    DeviceChoices, DeviceDetail, DeviceRole, PollingProfile, SnmpVersion, Vendor,
};

/// Element ids start with `prefix` ("new", "edit"). `site` preselects a site on an empty form.
#[component]
pub fn DeviceFields(
    prefix: &'static str,
    device: Option<DeviceDetail>,
    choices: DeviceChoices,
    #[prop(optional_no_strip)] site: Option<i64>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = move |field: &str| format!("{prefix}-device-{field}");
    let invalid = move |field: &'static str| {
        move || (error.get().as_deref() == Some(field)).then_some("true")
    };
    let d = device.as_ref();
    let site = d.map(|d| d.row.site_id.0).or(site);
    let vendor = d.map_or(Vendor::Mikrotik, |d| d.row.vendor);
    let role = d.map_or(DeviceRole::Access, |d| d.row.role);
    let snmp = d.map_or(SnmpVersion::None, |d| d.snmp_version);
    let polling = d.map_or(PollingProfile::Medium, |d| d.polling_profile);
    let credential = d.and_then(|d| d.credential_profile.as_ref().map(|p| p.0));
    let snmp_profile = d.and_then(|d| d.snmp_profile.as_ref().map(|p| p.0));
    let profile_options = move |selected: Option<i64>| {
        let profiles = choices.profiles.clone();
        view! {
            <option value="" selected=selected.is_none()>"— none —"</option>
            {profiles.into_iter().map(|(pid, label)| view! {
                <option value=pid selected=Some(pid) == selected>{label}</option>
            }).collect_view()}
        }
    };
    view! {
        <Field id=id("name") name="form[name]" label="Name" value=d.map(|d| d.row.name.clone()).unwrap_or_default()
            required=true max=100 error />
        <label for=id("site")>"Site"</label>
        <select id=id("site") name="form[site_id]" required aria-invalid=invalid("site_id")>
            <option value="" selected=site.is_none()>"— choose —"</option>
            {choices.sites.iter().cloned().map(|(sid, label)| view! {
                <option value=sid selected=Some(sid) == site>{label}</option>
            }).collect_view()}
        </select>
        <label for=id("vendor")>"Vendor"</label>
        <select id=id("vendor") name="form[vendor]" aria-invalid=invalid("vendor")>
            {Vendor::ALL.iter().map(|v| view! { <option value=v.as_str() selected=*v == vendor>{v.as_str()}</option> }).collect_view()}
        </select>
        <Field id=id("model") name="form[model]" label="Model" value=d.map(|d| d.row.model.clone()).unwrap_or_default()
            max=100 placeholder="CCR2004-16G-2S+" error />
        <label for=id("role")>"Role"</label>
        <select id=id("role") name="form[role]" aria-invalid=invalid("role")>
            {DeviceRole::ALL.iter().map(|r| view! { <option value=r.as_str() selected=*r == role>{r.as_str()}</option> }).collect_view()}
        </select>
        <Field id=id("mgmt-address") name="form[mgmt_address]" label="Management address"
            value=d.map(|d| d.row.mgmt_address.clone()).unwrap_or_default() required=true max=45
            placeholder="10.0.0.1" error />
        <Field id=id("api-port") name="form[api_port]" label="RouterOS API port (blank: 8728, or 8729 with TLS)"
            value=d.map(|d| d.api_port.to_string()).unwrap_or_default() max=5 error />
        <label class="check"><input type="checkbox" id=id("api-tls") name="form[api_tls]"
            checked=d.is_some_and(|d| d.api_tls) />" API over TLS"</label>
        <Field id=id("rest-port") name="form[rest_port]" label="REST port (blank: REST not used)"
            value=d.and_then(|d| d.rest_port).map(|p| p.to_string()).unwrap_or_default() max=5 error />
        <label for=id("credential")>"Login (credential profile)"</label>
        <select id=id("credential") name="form[credential_profile_id]" aria-invalid=invalid("credential_profile_id")>
            {profile_options(credential)}
        </select>
        <label for=id("snmp-version")>"SNMP"</label>
        <select id=id("snmp-version") name="form[snmp_version]" aria-invalid=invalid("snmp_version")>
            {SnmpVersion::ALL.iter().map(|v| view! { <option value=v.as_str() selected=*v == snmp>{v.as_str()}</option> }).collect_view()}
        </select>
        <label for=id("snmp-profile")>"SNMP secrets (credential profile)"</label>
        <select id=id("snmp-profile") name="form[snmp_profile_id]" aria-invalid=invalid("snmp_profile_id")>
            {profile_options(snmp_profile)}
        </select>
        <label for=id("polling")>"Polling profile"</label>
        <select id=id("polling") name="form[polling_profile]" aria-invalid=invalid("polling_profile")>
            {PollingProfile::ALL.iter().map(|p| view! { <option value=p.as_str() selected=*p == polling>{p.as_str()}</option> }).collect_view()}
        </select>
        <Field id=id("tags") name="form[tags]" label="Tags (comma separated)"
            value=d.map(|d| d.row.tags.join(", ")).unwrap_or_default() max=700 error />
        <label class="check"><input type="checkbox" id=id("enabled") name="form[enabled]"
            checked=d.is_none_or(|d| d.row.enabled) />" Enabled (polled and alerted on)"</label>
    }
}
