//! Credential profiles as the browser sees them (names, kinds, where they are used; never a
//! secret), and the rules for the fields of the create and edit forms.
//!
//! The secrets themselves (RouterOS logins, SNMP communities and v3 passphrases) exist in
//! plaintext only on the server, in `crypto::credential`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::AppError;

/// Database id of a credential profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CredentialProfileId(pub i64);

/// What a profile holds, which decides the fields it has. Fixed when the profile is created:
/// it is bound into the ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CredentialKind {
    /// A RouterOS API/REST login: username and password.
    RouterOs,
    /// An SNMP v1/v2c community.
    SnmpV2c,
    /// An SNMP v3 user (RFC 3414): authentication, and optionally privacy.
    SnmpV3,
}

impl CredentialKind {
    pub const ALL: [CredentialKind; 3] = [
        CredentialKind::RouterOs,
        CredentialKind::SnmpV2c,
        CredentialKind::SnmpV3,
    ];

    /// The form value and the database column's value.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::RouterOs => "routeros",
            CredentialKind::SnmpV2c => "snmp_v2c",
            CredentialKind::SnmpV3 => "snmp_v3",
        }
    }

    /// How the UI names it.
    pub fn label(self) -> &'static str {
        match self {
            CredentialKind::RouterOs => "RouterOS login",
            CredentialKind::SnmpV2c => "SNMP v2c community",
            CredentialKind::SnmpV3 => "SNMP v3 user",
        }
    }
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CredentialKind {
    type Err = AppError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CredentialKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| AppError::invalid("kind", "must be routeros, snmp_v2c or snmp_v3"))
    }
}

/// One row of the credentials page: everything about a profile except its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialProfileSummary {
    pub id: CredentialProfileId,
    pub name: String,
    pub kind: CredentialKind,
    pub description: String,
    /// Which master key sealed the secret (16 hex digits of its SHA-256; not secret).
    pub key_fingerprint: String,
    /// Devices that use it as their login or their SNMP profile.
    pub used_by_devices: i64,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

/// A profile's fields as the create and edit forms send them (`form[name]`, `form[password]`,
/// ...). The secret fields of every kind are here; the server reads those of the profile's kind,
/// and on an edit a blank one keeps the stored value. `Debug` never shows a secret.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialForm {
    pub name: String,
    /// Create only: a profile's kind is fixed once it exists (it is bound into the ciphertext).
    #[serde(default)]
    pub kind: String,
    /// On an edit, omitted keeps the stored description.
    pub description: Option<String>,
    /// RouterOS login.
    pub username: Option<String>,
    pub password: Option<String>,
    /// SNMP v2c.
    pub community: Option<String>,
    /// SNMP v3.
    pub snmp_user: Option<String>,
    pub auth_protocol: Option<String>,
    pub auth_passphrase: Option<String>,
    pub priv_protocol: Option<String>,
    pub priv_passphrase: Option<String>,
}

impl fmt::Debug for CredentialForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| "[REDACTED]");
        f.debug_struct("CredentialForm")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("description", &self.description)
            .field("username", &self.username)
            .field("password", &redacted(&self.password))
            .field("community", &redacted(&self.community))
            .field("snmp_user", &self.snmp_user)
            .field("auth_protocol", &self.auth_protocol)
            .field("auth_passphrase", &redacted(&self.auth_passphrase))
            .field("priv_protocol", &self.priv_protocol)
            .field("priv_passphrase", &redacted(&self.priv_passphrase))
            .finish()
    }
}

/// SNMP v3 authentication protocols (RFC 3414 and RFC 7860), as RouterOS names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SnmpAuthProtocol {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl SnmpAuthProtocol {
    pub const ALL: [SnmpAuthProtocol; 6] = [
        SnmpAuthProtocol::Md5,
        SnmpAuthProtocol::Sha1,
        SnmpAuthProtocol::Sha224,
        SnmpAuthProtocol::Sha256,
        SnmpAuthProtocol::Sha384,
        SnmpAuthProtocol::Sha512,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SnmpAuthProtocol::Md5 => "MD5",
            SnmpAuthProtocol::Sha1 => "SHA1",
            SnmpAuthProtocol::Sha224 => "SHA224",
            SnmpAuthProtocol::Sha256 => "SHA256",
            SnmpAuthProtocol::Sha384 => "SHA384",
            SnmpAuthProtocol::Sha512 => "SHA512",
        }
    }
}

impl FromStr for SnmpAuthProtocol {
    type Err = AppError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SnmpAuthProtocol::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                AppError::invalid(
                    "auth_protocol",
                    "must be MD5, SHA1, SHA224, SHA256, SHA384 or SHA512",
                )
            })
    }
}

/// SNMP v3 privacy (encryption) protocols, as RouterOS names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SnmpPrivProtocol {
    Des,
    Aes128,
    Aes192,
    Aes256,
}

impl SnmpPrivProtocol {
    pub const ALL: [SnmpPrivProtocol; 4] = [
        SnmpPrivProtocol::Des,
        SnmpPrivProtocol::Aes128,
        SnmpPrivProtocol::Aes192,
        SnmpPrivProtocol::Aes256,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SnmpPrivProtocol::Des => "DES",
            SnmpPrivProtocol::Aes128 => "AES128",
            SnmpPrivProtocol::Aes192 => "AES192",
            SnmpPrivProtocol::Aes256 => "AES256",
        }
    }

    /// A form value: `none` (or blank) means authentication without privacy.
    pub fn parse_optional(s: &str) -> Result<Option<Self>, AppError> {
        let s = s.trim();
        if s.is_empty() || s.eq_ignore_ascii_case(PRIV_NONE) {
            return Ok(None);
        }
        SnmpPrivProtocol::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .map(Some)
            .ok_or_else(|| {
                AppError::invalid(
                    "priv_protocol",
                    "must be none, DES, AES128, AES192 or AES256",
                )
            })
    }
}

/// The privacy protocol form value for "no privacy" (authNoPriv).
pub const PRIV_NONE: &str = "none";

pub const NAME_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 300;
/// RouterOS user names and SNMP v3 security names.
pub const LOGIN_NAME_MAX: usize = 100;
pub const PASSWORD_MAX: usize = 200;
pub const COMMUNITY_MAX: usize = 100;
/// RFC 3414 section 11.2: passphrases of fewer than 8 characters are refused (net-snmp and
/// RouterOS refuse them too).
pub const PASSPHRASE_MIN: usize = 8;
pub const PASSPHRASE_MAX: usize = 200;

fn no_control(field: &str, value: &str) -> Result<(), AppError> {
    if value.chars().any(char::is_control) {
        return Err(AppError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

fn length(field: &str, value: &str, min: usize, max: usize) -> Result<(), AppError> {
    let n = value.chars().count();
    if n < min {
        return Err(AppError::invalid(
            field,
            if min <= 1 {
                "is required".to_owned()
            } else {
                format!("must be at least {min} characters")
            },
        ));
    }
    if n > max {
        return Err(AppError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    no_control(field, value)
}

/// A profile's name: trimmed, 1-100 characters. Unique per tenant, ignoring case (the database
/// enforces that).
pub fn validate_profile_name(raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    length("name", name, 1, NAME_MAX)?;
    Ok(name.to_owned())
}

pub fn validate_description(raw: &str) -> Result<String, AppError> {
    let text = raw.trim();
    length("description", text, 0, DESCRIPTION_MAX)?;
    Ok(text.to_owned())
}

/// A RouterOS user name or an SNMP v3 security name: trimmed, 1-100 characters.
pub fn validate_login_name(field: &str, raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    length(field, name, 1, LOGIN_NAME_MAX)?;
    Ok(name.to_owned())
}

/// A RouterOS password, taken as typed (never trimmed): 1-200 characters.
pub fn validate_password(password: &str) -> Result<(), AppError> {
    length("password", password, 1, PASSWORD_MAX)
}

/// An SNMP community, taken as typed: 1-100 characters.
pub fn validate_community(community: &str) -> Result<(), AppError> {
    length("community", community, 1, COMMUNITY_MAX)
}

/// An SNMP v3 authentication or privacy passphrase, taken as typed: 8-200 characters.
pub fn validate_passphrase(field: &str, passphrase: &str) -> Result<(), AppError> {
    length(field, passphrase, PASSPHRASE_MIN, PASSPHRASE_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(r: Result<impl fmt::Debug, AppError>) -> Option<String> {
        r.err().and_then(|e| e.field().map(str::to_owned))
    }

    #[test]
    fn kinds_parse_from_their_form_values_only() {
        for kind in CredentialKind::ALL {
            assert_eq!(kind.as_str().parse::<CredentialKind>(), Ok(kind));
        }
        assert_eq!(
            field_of("telnet".parse::<CredentialKind>()).as_deref(),
            Some("kind")
        );
    }

    #[test]
    fn names_and_descriptions_are_trimmed_and_bounded() {
        assert_eq!(
            validate_profile_name("  core routers ").as_deref(),
            Ok("core routers")
        );
        assert_eq!(
            field_of(validate_profile_name("   ")).as_deref(),
            Some("name")
        );
        assert!(validate_profile_name(&"n".repeat(100)).is_ok());
        assert!(validate_profile_name(&"n".repeat(101)).is_err());
        assert!(validate_profile_name("tab\there").is_err());
        assert_eq!(validate_description("").as_deref(), Ok(""));
        assert_eq!(
            field_of(validate_description(&"d".repeat(301))).as_deref(),
            Some("description")
        );
    }

    #[test]
    fn secrets_have_length_rules_and_are_not_trimmed() {
        assert!(validate_password(" spaced ").is_ok());
        assert_eq!(field_of(validate_password("")).as_deref(), Some("password"));
        assert!(validate_password(&"p".repeat(201)).is_err());
        assert!(validate_community("public").is_ok());
        assert!(validate_community(&"c".repeat(101)).is_err());
        assert_eq!(
            field_of(validate_passphrase("auth_passphrase", "1234567")).as_deref(),
            Some("auth_passphrase")
        );
        assert!(validate_passphrase("priv_passphrase", "12345678").is_ok());
        assert_eq!(
            field_of(validate_login_name("snmp_user", " ")).as_deref(),
            Some("snmp_user")
        );
    }

    #[test]
    fn form_debug_never_shows_a_secret() {
        let form = CredentialForm {
            name: "core".into(),
            username: Some("api".into()),
            password: Some("hunter2-routeros".into()),
            community: Some("public-cmty".into()),
            auth_passphrase: Some("auth-secret".into()),
            priv_passphrase: Some("priv-secret".into()),
            ..CredentialForm::default()
        };
        let shown = format!("{form:?}");
        assert!(
            shown.contains("api") && shown.contains("[REDACTED]"),
            "{shown}"
        );
        for secret in [
            "hunter2-routeros",
            "public-cmty",
            "auth-secret",
            "priv-secret",
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn snmp_protocols_parse_case_insensitively() {
        assert_eq!("sha256".parse(), Ok(SnmpAuthProtocol::Sha256));
        assert_eq!(
            field_of("SHA3".parse::<SnmpAuthProtocol>()).as_deref(),
            Some("auth_protocol")
        );
        assert_eq!(SnmpPrivProtocol::parse_optional("none"), Ok(None));
        assert_eq!(SnmpPrivProtocol::parse_optional(""), Ok(None));
        assert_eq!(
            SnmpPrivProtocol::parse_optional("aes256"),
            Ok(Some(SnmpPrivProtocol::Aes256))
        );
        assert!(SnmpPrivProtocol::parse_optional("3DES").is_err());
    }
}
