//! The secret of a credential profile in plaintext (`CredentialSecret`, server memory only), how
//! form input becomes one, and how it is sealed into `credential_profile.secret_ciphertext`.
//!
//! The sealed plaintext is a small JSON document tagged with the kind. The associated data binds
//! it to its row: the tenant, the kind and the profile's random `secret_uuid`, so that a
//! ciphertext copied onto another profile or tenant does not open.

use secrecy::zeroize::{Zeroize, Zeroizing};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CryptoError, MasterKey};
use crate::error::AppError;
use crate::model::credential::{
    validate_community, validate_login_name, validate_passphrase, validate_password,
    CredentialKind, SnmpAuthProtocol, SnmpPrivProtocol, PRIV_NONE,
};
use crate::model::user::TenantId;

/// A profile's secret, opened. `Debug` shows user names but never a password, community or
/// passphrase (`SecretString` redacts itself).
#[derive(Debug)]
pub enum CredentialSecret {
    RouterOs {
        username: String,
        password: SecretString,
    },
    SnmpV2c {
        community: SecretString,
    },
    SnmpV3(SnmpV3Secret),
}

#[derive(Debug)]
pub struct SnmpV3Secret {
    pub user: String,
    pub auth_protocol: SnmpAuthProtocol,
    pub auth_passphrase: SecretString,
    /// `None`: authentication without privacy (authNoPriv).
    pub privacy: Option<(SnmpPrivProtocol, SecretString)>,
}

/// The secret fields of a create or edit form. A blank field is `None`: on create it is missing,
/// on edit it keeps the stored value.
#[derive(Default)]
pub struct SecretInput {
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub community: Option<SecretString>,
    pub snmp_user: Option<String>,
    pub auth_protocol: Option<String>,
    pub auth_passphrase: Option<SecretString>,
    pub priv_protocol: Option<String>,
    pub priv_passphrase: Option<SecretString>,
}

/// A form's text field; blank (after trimming) is `None`.
pub fn given(field: Option<String>) -> Option<String> {
    field.filter(|v| !v.trim().is_empty())
}

/// A form's secret field, moved straight into a `SecretString`; only an empty field is `None`
/// (a secret is taken as typed, spaces included).
pub fn given_secret(field: Option<String>) -> Option<SecretString> {
    field.filter(|v| !v.is_empty()).map(SecretString::from)
}

impl SecretInput {
    /// True if the form changes no secret field (an edit of the name or description only).
    pub fn is_empty(&self) -> bool {
        self.username.is_none()
            && self.password.is_none()
            && self.community.is_none()
            && self.snmp_user.is_none()
            && self.auth_protocol.is_none()
            && self.auth_passphrase.is_none()
            && self.priv_protocol.is_none()
            && self.priv_passphrase.is_none()
    }
}

fn required<T>(value: Option<T>, field: &str) -> Result<T, AppError> {
    value.ok_or_else(|| AppError::invalid(field, "is required"))
}

impl CredentialSecret {
    pub fn kind(&self) -> CredentialKind {
        match self {
            CredentialSecret::RouterOs { .. } => CredentialKind::RouterOs,
            CredentialSecret::SnmpV2c { .. } => CredentialKind::SnmpV2c,
            CredentialSecret::SnmpV3(_) => CredentialKind::SnmpV3,
        }
    }

    /// A new profile's secret from its form: every field the kind needs, each valid. Fields of
    /// other kinds are ignored (the no-JS form shows them all).
    pub fn from_input(kind: CredentialKind, input: SecretInput) -> Result<Self, AppError> {
        match kind {
            CredentialKind::RouterOs => {
                let username =
                    validate_login_name("username", &required(input.username, "username")?)?;
                let password = required(input.password, "password")?;
                validate_password(password.expose_secret())?;
                Ok(CredentialSecret::RouterOs { username, password })
            }
            CredentialKind::SnmpV2c => {
                let community = required(input.community, "community")?;
                validate_community(community.expose_secret())?;
                Ok(CredentialSecret::SnmpV2c { community })
            }
            CredentialKind::SnmpV3 => {
                let user =
                    validate_login_name("snmp_user", &required(input.snmp_user, "snmp_user")?)?;
                let auth_protocol: SnmpAuthProtocol =
                    required(input.auth_protocol, "auth_protocol")?.parse()?;
                let auth_passphrase = required(input.auth_passphrase, "auth_passphrase")?;
                validate_passphrase("auth_passphrase", auth_passphrase.expose_secret())?;
                let privacy = match SnmpPrivProtocol::parse_optional(
                    input.priv_protocol.as_deref().unwrap_or(PRIV_NONE),
                )? {
                    Some(protocol) => {
                        let passphrase = input.priv_passphrase.ok_or_else(|| {
                            AppError::invalid(
                                "priv_passphrase",
                                "is required with a privacy protocol",
                            )
                        })?;
                        validate_passphrase("priv_passphrase", passphrase.expose_secret())?;
                        Some((protocol, passphrase))
                    }
                    None if input.priv_passphrase.is_some() => {
                        return Err(AppError::invalid(
                            "priv_passphrase",
                            "choose a privacy protocol, or leave the privacy passphrase blank",
                        ))
                    }
                    None => None,
                };
                Ok(CredentialSecret::SnmpV3(SnmpV3Secret {
                    user,
                    auth_protocol,
                    auth_passphrase,
                    privacy,
                }))
            }
        }
    }

    /// An edit: the fields given replace the stored ones, blank ones keep them, and the result
    /// is checked as a whole (turning privacy on needs a privacy passphrase).
    pub fn merged(self, input: SecretInput) -> Result<Self, AppError> {
        let kind = self.kind();
        let stored = match self {
            CredentialSecret::RouterOs { username, password } => SecretInput {
                username: Some(username),
                password: Some(password),
                ..SecretInput::default()
            },
            CredentialSecret::SnmpV2c { community } => SecretInput {
                community: Some(community),
                ..SecretInput::default()
            },
            CredentialSecret::SnmpV3(v3) => {
                let (priv_protocol, priv_passphrase) = match v3.privacy {
                    Some((p, pass)) => (Some(p.as_str().to_owned()), Some(pass)),
                    None => (Some(PRIV_NONE.to_owned()), None),
                };
                SecretInput {
                    snmp_user: Some(v3.user),
                    auth_protocol: Some(v3.auth_protocol.as_str().to_owned()),
                    auth_passphrase: Some(v3.auth_passphrase),
                    priv_protocol,
                    priv_passphrase,
                    ..SecretInput::default()
                }
            }
        };
        // Turning privacy off drops the stored privacy passphrase; a passphrase typed together
        // with "none" is still refused by `from_input`.
        let privacy_off = input
            .priv_protocol
            .as_deref()
            .is_some_and(|p| p.trim().eq_ignore_ascii_case(PRIV_NONE));
        let merged = SecretInput {
            username: input.username.or(stored.username),
            password: input.password.or(stored.password),
            community: input.community.or(stored.community),
            snmp_user: input.snmp_user.or(stored.snmp_user),
            auth_protocol: input.auth_protocol.or(stored.auth_protocol),
            auth_passphrase: input.auth_passphrase.or(stored.auth_passphrase),
            priv_protocol: input.priv_protocol.or(stored.priv_protocol),
            priv_passphrase: if privacy_off {
                input.priv_passphrase
            } else {
                input.priv_passphrase.or(stored.priv_passphrase)
            },
        };
        Self::from_input(kind, merged)
    }

    /// Seals the secret for the profile `(tenant, secret_uuid)`; a fresh nonce every time.
    pub fn seal(
        &self,
        key: &MasterKey,
        tenant: TenantId,
        secret_uuid: Uuid,
    ) -> Result<Vec<u8>, CryptoError> {
        let plain = Plain::from(self);
        // Sized so that serialising never reallocates, which would leave unzeroed copies.
        let mut buf = Zeroizing::new(Vec::with_capacity(8 * 1024));
        serde_json::to_writer(&mut *buf, &plain).map_err(|_| CryptoError::Seal)?;
        key.seal(&aad(tenant, self.kind(), secret_uuid), &buf)
    }

    /// Opens a profile's secret; the row's tenant, kind and uuid must be the sealed ones.
    pub fn open(
        key: &MasterKey,
        tenant: TenantId,
        kind: CredentialKind,
        secret_uuid: Uuid,
        blob: &[u8],
    ) -> Result<Self, CryptoError> {
        let bytes = key.open(&aad(tenant, kind, secret_uuid), blob)?;
        let mut plain: Plain = serde_json::from_slice(&bytes).map_err(|_| CryptoError::Format)?;
        let secret = plain.take()?;
        if secret.kind() != kind {
            return Err(CryptoError::Format);
        }
        Ok(secret)
    }
}

/// Key rotation: opens a blob under `old` and seals the same bytes under `new` (new nonce, same
/// associated data), without parsing them.
pub fn reseal(
    old: &MasterKey,
    new: &MasterKey,
    tenant: TenantId,
    kind: CredentialKind,
    secret_uuid: Uuid,
    blob: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let aad = aad(tenant, kind, secret_uuid);
    let plain = old.open(&aad, blob)?;
    new.seal(&aad, &plain)
}

/// The associated data of a profile's ciphertext. Each part has a fixed length or ends in a NUL
/// (kinds contain none), so two different rows never give the same bytes.
pub fn aad(tenant: TenantId, kind: CredentialKind, secret_uuid: Uuid) -> Vec<u8> {
    let mut aad = Vec::with_capacity(64);
    aad.extend_from_slice(b"ispvm.credential_profile.v1\0");
    aad.extend_from_slice(&tenant.0.to_be_bytes());
    aad.extend_from_slice(kind.as_str().as_bytes());
    aad.push(0);
    aad.extend_from_slice(secret_uuid.as_bytes());
    aad
}

/// The sealed JSON document. Its strings are zeroed when it is dropped.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum Plain {
    Routeros {
        username: String,
        password: String,
    },
    SnmpV2c {
        community: String,
    },
    SnmpV3 {
        user: String,
        auth_protocol: String,
        auth_passphrase: String,
        priv_protocol: Option<String>,
        priv_passphrase: Option<String>,
    },
}

impl Drop for Plain {
    fn drop(&mut self) {
        match self {
            Plain::Routeros { username, password } => {
                username.zeroize();
                password.zeroize();
            }
            Plain::SnmpV2c { community } => community.zeroize(),
            Plain::SnmpV3 {
                user,
                auth_protocol,
                auth_passphrase,
                priv_protocol,
                priv_passphrase,
            } => {
                user.zeroize();
                auth_protocol.zeroize();
                auth_passphrase.zeroize();
                priv_protocol.zeroize();
                priv_passphrase.zeroize();
            }
        }
    }
}

impl From<&CredentialSecret> for Plain {
    fn from(secret: &CredentialSecret) -> Self {
        match secret {
            CredentialSecret::RouterOs { username, password } => Plain::Routeros {
                username: username.clone(),
                password: password.expose_secret().to_owned(),
            },
            CredentialSecret::SnmpV2c { community } => Plain::SnmpV2c {
                community: community.expose_secret().to_owned(),
            },
            CredentialSecret::SnmpV3(v3) => Plain::SnmpV3 {
                user: v3.user.clone(),
                auth_protocol: v3.auth_protocol.as_str().to_owned(),
                auth_passphrase: v3.auth_passphrase.expose_secret().to_owned(),
                priv_protocol: v3.privacy.as_ref().map(|(p, _)| p.as_str().to_owned()),
                priv_passphrase: v3
                    .privacy
                    .as_ref()
                    .map(|(_, pass)| pass.expose_secret().to_owned()),
            },
        }
    }
}

impl Plain {
    /// Moves the strings out (leaving empty ones for `Drop`) into a `CredentialSecret`.
    fn take(&mut self) -> Result<CredentialSecret, CryptoError> {
        let take = std::mem::take::<String>;
        Ok(match self {
            Plain::Routeros { username, password } => CredentialSecret::RouterOs {
                username: take(username),
                password: SecretString::from(take(password)),
            },
            Plain::SnmpV2c { community } => CredentialSecret::SnmpV2c {
                community: SecretString::from(take(community)),
            },
            Plain::SnmpV3 {
                user,
                auth_protocol,
                auth_passphrase,
                priv_protocol,
                priv_passphrase,
            } => {
                let auth_protocol = auth_protocol.parse().map_err(|_| CryptoError::Format)?;
                let privacy = match (priv_protocol.as_deref(), priv_passphrase.take()) {
                    (None, None) => None,
                    (Some(p), Some(pass)) => Some((
                        SnmpPrivProtocol::parse_optional(p)
                            .ok()
                            .flatten()
                            .ok_or(CryptoError::Format)?,
                        SecretString::from(pass),
                    )),
                    _ => return Err(CryptoError::Format),
                };
                CredentialSecret::SnmpV3(SnmpV3Secret {
                    user: take(user),
                    auth_protocol,
                    auth_passphrase: SecretString::from(take(auth_passphrase)),
                    privacy,
                })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<SecretString> {
        Some(SecretString::from(v))
    }

    fn v3_input() -> SecretInput {
        SecretInput {
            snmp_user: Some("monitor".into()),
            auth_protocol: Some("SHA256".into()),
            auth_passphrase: s("auth-pass-1"),
            priv_protocol: Some("AES128".into()),
            priv_passphrase: s("priv-pass-1"),
            ..SecretInput::default()
        }
    }

    #[test]
    fn secrets_seal_and_open_bound_to_their_row() {
        let (key, _) = MasterKey::generate();
        let id = Uuid::new_v4();
        let secret = CredentialSecret::from_input(
            CredentialKind::RouterOs,
            SecretInput {
                username: Some(" api ".into()),
                password: s(" pa55 word "),
                ..SecretInput::default()
            },
        )
        .expect("valid");
        let blob = secret.seal(&key, TenantId(7), id).expect("seal");
        let back = CredentialSecret::open(&key, TenantId(7), CredentialKind::RouterOs, id, &blob)
            .expect("open");
        match back {
            CredentialSecret::RouterOs { username, password } => {
                assert_eq!(username, "api");
                assert_eq!(password.expose_secret(), " pa55 word ");
            }
            other => panic!("wrong kind: {other:?}"),
        }
        let moved = [
            (TenantId(8), CredentialKind::RouterOs, id),
            (TenantId(7), CredentialKind::SnmpV2c, id),
            (TenantId(7), CredentialKind::RouterOs, Uuid::new_v4()),
        ];
        for (tenant, kind, uuid) in moved {
            let err = CredentialSecret::open(&key, tenant, kind, uuid, &blob).err();
            assert_eq!(
                err.map(|e| e.to_string()),
                Some(CryptoError::Open.to_string())
            );
        }
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let mut input = v3_input();
        input.auth_passphrase = s("very-secret-auth");
        let secret = CredentialSecret::from_input(CredentialKind::SnmpV3, input).expect("valid");
        let shown = format!("{secret:?}");
        assert!(shown.contains("monitor"), "{shown}");
        assert!(
            !shown.contains("very-secret-auth") && !shown.contains("priv-pass-1"),
            "{shown}"
        );
    }

    #[test]
    fn missing_and_bad_fields_name_the_field() {
        let cases: [(CredentialKind, SecretInput, &str); 5] = [
            (
                CredentialKind::RouterOs,
                SecretInput {
                    username: Some("a".into()),
                    ..SecretInput::default()
                },
                "password",
            ),
            (CredentialKind::SnmpV2c, SecretInput::default(), "community"),
            (
                CredentialKind::SnmpV3,
                SecretInput {
                    auth_passphrase: s("short"),
                    ..v3_input()
                },
                "auth_passphrase",
            ),
            (
                CredentialKind::SnmpV3,
                SecretInput {
                    priv_passphrase: None,
                    ..v3_input()
                },
                "priv_passphrase",
            ),
            (
                CredentialKind::SnmpV3,
                SecretInput {
                    auth_protocol: Some("SHA3".into()),
                    ..v3_input()
                },
                "auth_protocol",
            ),
        ];
        for (kind, input, field) in cases {
            let err = CredentialSecret::from_input(kind, input).err();
            assert_eq!(err.as_ref().and_then(|e| e.field()), Some(field), "{err:?}");
        }
    }

    #[test]
    fn edits_keep_blank_fields_and_replace_given_ones() {
        let (key, _) = MasterKey::generate();
        let stored =
            CredentialSecret::from_input(CredentialKind::SnmpV3, v3_input()).expect("valid");
        let edited = stored
            .merged(SecretInput {
                auth_passphrase: s("new-auth-pass"),
                ..SecretInput::default()
            })
            .expect("merge");
        let CredentialSecret::SnmpV3(v3) = &edited else {
            panic!("kind changed");
        };
        assert_eq!(v3.user, "monitor");
        assert_eq!(v3.auth_passphrase.expose_secret(), "new-auth-pass");
        let privacy = v3
            .privacy
            .as_ref()
            .map(|(p, pass)| (*p, pass.expose_secret()));
        assert_eq!(privacy, Some((SnmpPrivProtocol::Aes128, "priv-pass-1")));
        // It still seals and opens.
        let id = Uuid::new_v4();
        let blob = edited.seal(&key, TenantId(1), id).expect("seal");
        assert!(
            CredentialSecret::open(&key, TenantId(1), CredentialKind::SnmpV3, id, &blob).is_ok()
        );

        let off = edited
            .merged(SecretInput {
                priv_protocol: Some("none".into()),
                ..SecretInput::default()
            })
            .expect("privacy off");
        let CredentialSecret::SnmpV3(v3) = &off else {
            panic!("kind changed");
        };
        assert!(v3.privacy.is_none());
        let on_without_pass = off.merged(SecretInput {
            priv_protocol: Some("AES256".into()),
            ..SecretInput::default()
        });
        assert_eq!(
            on_without_pass.err().as_ref().and_then(|e| e.field()),
            Some("priv_passphrase")
        );
    }

    #[test]
    fn rotation_reseals_the_same_plaintext_under_the_new_key() {
        let (old, _) = MasterKey::generate();
        let (new, _) = MasterKey::generate();
        let id = Uuid::new_v4();
        let secret = CredentialSecret::SnmpV2c {
            community: SecretString::from("c0mmunity"),
        };
        let blob = secret.seal(&old, TenantId(3), id).expect("seal");
        let again =
            reseal(&old, &new, TenantId(3), CredentialKind::SnmpV2c, id, &blob).expect("reseal");
        assert!(
            CredentialSecret::open(&old, TenantId(3), CredentialKind::SnmpV2c, id, &again).is_err()
        );
        match CredentialSecret::open(&new, TenantId(3), CredentialKind::SnmpV2c, id, &again) {
            Ok(CredentialSecret::SnmpV2c { community }) => {
                assert_eq!(community.expose_secret(), "c0mmunity")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            reseal(&new, &old, TenantId(3), CredentialKind::SnmpV2c, id, &blob).err(),
            Some(CryptoError::Open),
            "the wrong old key fails"
        );
    }
}
