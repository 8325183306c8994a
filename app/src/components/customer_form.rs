//! The fields of a customer, shared by the create form (empty) and the edit form (filled in).
//! Input names equal the arguments of `create_customer` and `update_customer`.

use leptos::prelude::*;

use crate::components::fields::Field;
use crate::model::customer::{
    Customer, ACCOUNT_ID_MAX, CONTACT_EMAIL_MAX, CONTACT_NAME_MAX, CONTACT_PHONE_MAX, NAME_MAX,
    TIMEZONE_MAX,
};

/// Element ids start with `prefix` ("new", "edit") so that two forms could share a page.
#[component]
pub fn CustomerFields(
    prefix: &'static str,
    customer: Option<Customer>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let c = customer.unwrap_or_else(|| Customer {
        id: crate::model::customer::CustomerId(0),
        name: String::new(),
        account_id: String::new(),
        contact_name: String::new(),
        contact_email: String::new(),
        contact_phone: String::new(),
        timezone: "UTC".to_owned(),
        sla_target: None,
        services: 0,
        created_at: String::new(),
        updated_at: String::new(),
    });
    let id = move |field: &str| format!("{prefix}-customer-{field}");
    view! {
        <Field id=id("name") name="name" label="Name" value=c.name required=true max=NAME_MAX error />
        <Field id=id("account-id") name="account_id" label="Account id (billing key)"
            value=c.account_id required=true max=ACCOUNT_ID_MAX error />
        <Field id=id("contact-name") name="contact_name" label="Contact name"
            value=c.contact_name max=CONTACT_NAME_MAX error />
        <Field id=id("contact-email") name="contact_email" label="Contact email" kind="email"
            value=c.contact_email max=CONTACT_EMAIL_MAX error />
        <Field id=id("contact-phone") name="contact_phone" label="Contact phone" kind="tel"
            value=c.contact_phone max=CONTACT_PHONE_MAX error />
        <Field id=id("timezone") name="timezone" label="Time zone (IANA, e.g. Europe/Vienna)"
            value=c.timezone max=TIMEZONE_MAX error />
        <Field id=id("sla-target") name="sla_target" label="SLA target % (e.g. 99.9; empty for none)"
            value=c.sla_target.map(|t| t.to_string()).unwrap_or_default() max=7
            placeholder="99.9" error />
    }
}
