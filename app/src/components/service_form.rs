//! The fields of a service, shared by the create form (empty) and the edit form (filled in).
//! Input names equal the arguments of `create_service` and `update_service`; the customer and
//! access device are selects over the choices the page loaded.

use leptos::prelude::*;

use crate::components::fields::Field;
use crate::model::service::{
    Choice, Service, ServiceKind, BUSINESS_HOURS_MAX, INTERFACE_MAX, NAME_MAX, PPPOE_PATTERN_MAX,
    PROVIDER_MAX,
};

/// Element ids start with `prefix` ("new", "edit"). `customer` preselects a customer on an
/// empty form (the "add a service" link of a customer page).
#[component]
pub fn ServiceFields(
    prefix: &'static str,
    service: Option<Service>,
    customers: Vec<Choice>,
    devices: Vec<Choice>,
    customer: Option<i64>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = move |field: &str| format!("{prefix}-service-{field}");
    let invalid =
        move |name: &'static str| move || (error.get().as_deref() == Some(name)).then_some("true");
    let kind = service.as_ref().map_or(ServiceKind::Internet, |s| s.kind);
    let customer = service
        .as_ref()
        .map_or(customer, |s| s.customer_id.map(|c| c.0));
    let device = service.as_ref().and_then(|s| s.access_device_id);
    let text = |f: fn(&Service) -> String| service.as_ref().map(f).unwrap_or_default();
    let name = text(|s| s.name.clone());
    let provider = text(|s| s.provider.clone());
    let interface = text(|s| s.access_interface.clone().unwrap_or_default());
    let pattern = text(|s| s.pppoe_username_pattern.clone());
    let sla = text(|s| s.sla_target.map(|t| t.to_string()).unwrap_or_default());
    let hours = text(|s| s.business_hours.clone().unwrap_or_default());
    let enabled = service.as_ref().is_none_or(|s| s.enabled);
    let options = |choices: Vec<Choice>, selected: Option<i64>| {
        choices
            .into_iter()
            .map(
                |c| view! { <option value=c.id selected=Some(c.id) == selected>{c.label}</option> },
            )
            .collect_view()
    };
    view! {
        <Field id=id("name") name="name" label="Name" value=name required=true max=NAME_MAX error />
        <label for=id("kind")>"Kind"</label>
        <select id=id("kind") name="kind" aria-invalid=invalid("kind")>
            {ServiceKind::ALL.iter().map(|&k| view! {
                <option value=k.as_str() selected=k == kind>{k.label()}</option>
            }).collect_view()}
        </select>
        <label for=id("customer")>"Customer (none for transit)"</label>
        <select id=id("customer") name="customer_id" aria-invalid=invalid("customer_id")>
            <option value="" selected=customer.is_none()>"— none —"</option>
            {options(customers, customer)}
        </select>
        <Field id=id("provider") name="provider" label="Provider (upstream circuits)"
            value=provider max=PROVIDER_MAX error />
        <label for=id("device")>"Access device"</label>
        <select id=id("device") name="access_device_id" aria-invalid=invalid("access_device_id")>
            <option value="" selected=device.is_none()>"— none —"</option>
            {options(devices, device)}
        </select>
        <Field id=id("interface") name="access_interface" label="Access interface (name on that device)"
            value=interface max=INTERFACE_MAX placeholder="ether5" error />
        <Field id=id("pppoe") name="pppoe_username_pattern"
            label="PPPoE username pattern (% any run, _ one character)"
            value=pattern max=PPPOE_PATTERN_MAX placeholder="vie-%" error />
        <Field id=id("sla-target") name="sla_target"
            label="SLA target % (empty: the customer's)" value=sla max=7 placeholder="99.9" error />
        <Field id=id("business-hours") name="business_hours"
            label="Business-hours calendar (empty: 24x7)" value=hours max=BUSINESS_HOURS_MAX error />
        <label class="check">
            <input type="checkbox" id=id("enabled") name="enabled" value="true" checked=enabled />
            " Enabled"
        </label>
    }
}
