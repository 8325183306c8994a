//! Reusable view pieces. No server calls inside.

pub mod credential_fields;
pub mod customer_form;
pub mod device_form;
pub mod fields;
pub mod layout;
pub mod notice;
pub mod pager;
pub mod service_form;
