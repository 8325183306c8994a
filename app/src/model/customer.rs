//! Customers (who buys services) and the validation rules of their fields. Whether a timezone
//! exists is a database question (`db::customers::canonical_timezone`); here only its shape.

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::sla::SlaTarget;
use crate::model::text_field;

/// Database id of a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CustomerId(pub i64);

/// One row of the customers list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRow {
    pub id: CustomerId,
    pub name: String,
    pub account_id: String,
    pub timezone: String,
    pub sla_target: Option<SlaTarget>,
    /// How many services the customer has.
    pub services: i64,
}

/// One customer with everything its page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    pub name: String,
    pub account_id: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub timezone: String,
    pub sla_target: Option<SlaTarget>,
    pub services: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

pub const NAME_MAX: usize = 200;
pub const ACCOUNT_ID_MAX: usize = 64;
pub const CONTACT_NAME_MAX: usize = 100;
pub const CONTACT_EMAIL_MAX: usize = 254;
pub const CONTACT_PHONE_MAX: usize = 50;
pub const TIMEZONE_MAX: usize = 64;

/// A customer's fields, validated, as create and update write them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerInput {
    pub name: String,
    pub account_id: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    /// Shape-checked only; the caller resolves it against the database's zone list.
    pub timezone: String,
    pub sla_target: Option<SlaTarget>,
}

/// The raw form fields of a customer, as the create and edit forms post them.
pub struct CustomerForm<'a> {
    pub name: &'a str,
    pub account_id: &'a str,
    pub contact_name: &'a str,
    pub contact_email: &'a str,
    pub contact_phone: &'a str,
    pub timezone: &'a str,
    pub sla_target: &'a str,
}

impl CustomerForm<'_> {
    /// Checks every field; the first bad one is reported under its form name.
    pub fn validate(&self) -> Result<CustomerInput, AppError> {
        Ok(CustomerInput {
            name: text_field("name", self.name, 1, NAME_MAX)?,
            account_id: text_field("account_id", self.account_id, 1, ACCOUNT_ID_MAX)?,
            contact_name: text_field("contact_name", self.contact_name, 0, CONTACT_NAME_MAX)?,
            contact_email: validate_email(self.contact_email)?,
            contact_phone: validate_phone(self.contact_phone)?,
            timezone: validate_timezone_shape("timezone", self.timezone)?,
            sla_target: SlaTarget::parse("sla_target", self.sla_target)?,
        })
    }
}

/// Optional; when given, a plausible address (one `@`, a dotted domain, no spaces). Whether it
/// receives mail is not ours to check.
pub fn validate_email(raw: &str) -> Result<String, AppError> {
    let email = text_field("contact_email", raw, 0, CONTACT_EMAIL_MAX)?;
    if email.is_empty() {
        return Ok(email);
    }
    let plausible = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if !plausible {
        return Err(AppError::invalid(
            "contact_email",
            "must be an email address such as noc@example.net",
        ));
    }
    Ok(email)
}

/// Optional; digits with the usual punctuation (`+ - ( ) .` and spaces).
pub fn validate_phone(raw: &str) -> Result<String, AppError> {
    let phone = text_field("contact_phone", raw, 0, CONTACT_PHONE_MAX)?;
    if phone.is_empty() {
        return Ok(phone);
    }
    let allowed = phone
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if !allowed || !phone.chars().any(|c| c.is_ascii_digit()) {
        return Err(AppError::invalid(
            "contact_phone",
            "may contain only digits, spaces and + - ( ) .",
        ));
    }
    Ok(phone)
}

/// The shape of an IANA zone name (`Europe/Vienna`, `UTC`, `Etc/GMT+1`); empty means UTC.
pub fn validate_timezone_shape(field: &str, raw: &str) -> Result<String, AppError> {
    let tz = raw.trim();
    if tz.is_empty() {
        return Ok("UTC".to_owned());
    }
    let ok = tz.len() <= TIMEZONE_MAX
        && tz
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
    if !ok {
        return Err(unknown_timezone(field));
    }
    Ok(tz.to_owned())
}

/// The error for a zone the database does not know, worded like the shape error.
pub fn unknown_timezone(field: &str) -> AppError {
    AppError::invalid(
        field,
        "must be an IANA time zone such as Europe/Vienna or UTC",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form<'a>(name: &'a str, account_id: &'a str) -> CustomerForm<'a> {
        CustomerForm {
            name,
            account_id,
            contact_name: "",
            contact_email: "",
            contact_phone: "",
            timezone: "",
            sla_target: "",
        }
    }

    fn field_of<T: std::fmt::Debug>(r: Result<T, AppError>) -> String {
        r.expect_err("should fail")
            .field()
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn a_minimal_customer_defaults_to_utc_and_no_target() {
        let input = form(" Acme Ltd ", " ACC-001 ").validate().expect("valid");
        assert_eq!(input.name, "Acme Ltd");
        assert_eq!(input.account_id, "ACC-001");
        assert_eq!(input.timezone, "UTC");
        assert_eq!(input.sla_target, None);
    }

    #[test]
    fn each_bad_field_is_named() {
        assert_eq!(field_of(form("", "A1").validate()), "name");
        assert_eq!(field_of(form("Acme", " ").validate()), "account_id");
        let long = "x".repeat(ACCOUNT_ID_MAX + 1);
        assert_eq!(field_of(form("Acme", &long).validate()), "account_id");
        let mut f = form("Acme", "A1");
        f.sla_target = "100.5";
        assert_eq!(field_of(f.validate()), "sla_target");
        let mut f = form("Acme", "A1");
        f.timezone = "Europe/Vienna; drop table";
        assert_eq!(field_of(f.validate()), "timezone");
    }

    #[test]
    fn contacts_are_optional_but_plausible() {
        assert_eq!(validate_email(""), Ok(String::new()));
        assert_eq!(
            validate_email(" noc@example.net "),
            Ok("noc@example.net".into())
        );
        for bad in [
            "noc",
            "noc@",
            "@example.net",
            "noc@example",
            "a b@example.net",
            "a@b@c.net",
        ] {
            assert_eq!(field_of(validate_email(bad)), "contact_email", "{bad}");
        }
        assert_eq!(
            validate_phone("+43 (1) 234-5678"),
            Ok("+43 (1) 234-5678".into())
        );
        assert_eq!(field_of(validate_phone("call me")), "contact_phone");
        assert_eq!(field_of(validate_phone("+-")), "contact_phone");
    }

    #[test]
    fn timezone_shapes() {
        for ok in [
            "UTC",
            "Europe/Vienna",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+1",
        ] {
            assert_eq!(validate_timezone_shape("timezone", ok).as_deref(), Ok(ok));
        }
        let long = "A".repeat(TIMEZONE_MAX + 1);
        for bad in ["Mars Base", "Europe\\Vienna", "UTC;", long.as_str()] {
            assert!(validate_timezone_shape("timezone", bad).is_err(), "{bad}");
        }
    }
}
