//! Users, roles and the validation rules of their fields.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::AppError;

/// Database id of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserId(pub i64);

/// Database id of a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TenantId(pub i64);

/// What a user may do inside their tenant. Ordered from most to least privileged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Manages inventory, users, backups and settings of the tenant.
    Admin,
    /// Works incidents: acknowledge, assign, run runbooks.
    Operator,
    /// Reads dashboards and reports.
    Viewer,
    /// A customer of the ISP: sees only their own services (bound to a customer record later).
    Customer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Operator, Role::Viewer, Role::Customer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Viewer => "viewer",
            Role::Customer => "customer",
        }
    }

    /// Staff roles see the NOC side of the product; customers see only the portal.
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Customer)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = AppError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| AppError::invalid("role", "must be admin, operator, viewer or customer"))
    }
}

/// The signed-in user as the browser sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub is_superadmin: bool,
    pub tenant_name: String,
}

/// One row of the users admin page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    /// RFC 3339, UTC; `None` if the user never signed in.
    pub last_login_at: Option<String>,
}

pub const USERNAME_MAX: usize = 64;
pub const DISPLAY_NAME_MAX: usize = 100;
pub const PASSWORD_MIN: usize = 12;
/// Long enough for any passphrase, short enough that hashing cannot be used to burn CPU.
pub const PASSWORD_MAX: usize = 256;

/// Normalises and checks a username: lower case, 2-64 of `a-z 0-9 . _ @ -`, starting alphanumeric.
pub fn validate_username(raw: &str) -> Result<String, AppError> {
    let name = raw.trim().to_lowercase();
    if name.len() < 2 {
        return Err(AppError::invalid(
            "username",
            "must be at least 2 characters",
        ));
    }
    if name.len() > USERNAME_MAX {
        return Err(AppError::invalid(
            "username",
            format!("must be at most {USERNAME_MAX} characters"),
        ));
    }
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._@-".contains(c));
    if !first_ok || !rest_ok {
        return Err(AppError::invalid(
            "username",
            "may contain only letters, digits and . _ @ - and must start with a letter or digit",
        ));
    }
    Ok(name)
}

pub fn validate_display_name(raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    if name.chars().count() > DISPLAY_NAME_MAX {
        return Err(AppError::invalid(
            "display_name",
            format!("must be at most {DISPLAY_NAME_MAX} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "display_name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// Length rules only (NIST 800-63B): no composition rules, long passphrases welcome.
pub fn validate_new_password(field: &str, password: &str) -> Result<(), AppError> {
    let n = password.chars().count();
    if n < PASSWORD_MIN {
        return Err(AppError::invalid(
            field,
            format!("must be at least {PASSWORD_MIN} characters"),
        ));
    }
    if n > PASSWORD_MAX {
        return Err(AppError::invalid(
            field,
            format!("must be at most {PASSWORD_MAX} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(
            validate_username("  Alice.NOC ").as_deref(),
            Ok("alice.noc")
        );
        assert!(validate_username("a").is_err());
        assert!(validate_username("-alice").is_err());
        assert!(validate_username("al ice").is_err());
        assert!(validate_username(&"a".repeat(65)).is_err());
        assert_eq!(validate_username(&"a".repeat(64)).map(|s| s.len()), Ok(64));
    }

    #[test]
    fn passwords_have_length_rules_only() {
        assert!(validate_new_password("password", "short").is_err());
        assert!(validate_new_password("password", "correct horse battery").is_ok());
        let err = validate_new_password("new_password", &"x".repeat(257));
        assert_eq!(
            err.err()
                .and_then(|e| e.field().map(str::to_owned))
                .as_deref(),
            Some("new_password")
        );
    }

    #[test]
    fn roles_parse_from_their_names_only() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
        assert!(!Role::Customer.is_staff());
    }
}
