//! Credential profiles: staff list them, admins create, edit and delete them, always inside
//! their own tenant. Secrets come in through the forms, are sealed under the master key in the
//! same request, and never go back out: no server function returns or logs one.
//!
//! Server code that needs a secret (the collectors) calls `ssr::open_credential`.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::credential::{CredentialForm, CredentialProfileId, CredentialProfileSummary};

#[server(prefix = "/api", endpoint = "list_credential_profiles")]
pub async fn list_credential_profiles() -> Result<Vec<CredentialProfileSummary>, AppError> {
    ssr::list_credential_profiles().await
}

#[server(prefix = "/api", endpoint = "get_credential_profile")]
pub async fn get_credential_profile(id: i64) -> Result<CredentialProfileSummary, AppError> {
    ssr::get_credential_profile(id).await
}

/// The secret fields are those of `form.kind`; the others are ignored, so one form can offer
/// every kind's fields (the page works without JavaScript).
#[server(prefix = "/api", endpoint = "create_credential_profile")]
pub async fn create_credential_profile(
    form: CredentialForm,
) -> Result<CredentialProfileId, AppError> {
    ssr::create_credential_profile(form).await
}

/// Blank secret fields keep the stored values, and so does an omitted description; the kind
/// cannot change (`form.kind` is ignored).
#[server(prefix = "/api", endpoint = "update_credential_profile")]
pub async fn update_credential_profile(id: i64, form: CredentialForm) -> Result<(), AppError> {
    ssr::update_credential_profile(id, form).await
}

#[server(prefix = "/api", endpoint = "delete_credential_profile")]
pub async fn delete_credential_profile(id: i64) -> Result<(), AppError> {
    ssr::delete_credential_profile(id).await
}

/// Server-only: the bodies of the functions above, and `open_credential` for server code.
#[cfg(feature = "ssr")]
pub mod ssr {
    use serde_json::json;
    use sqlx::PgConnection;
    use uuid::Uuid;

    use crate::api::server::{admin_caller, audit, staff_caller};
    use crate::crypto::credential::{given, given_secret, CredentialSecret, SecretInput};
    use crate::crypto::MasterKey;
    use crate::db;
    use crate::db::credentials::{NewProfile, NewSecret, SealedProfile};
    use crate::error::AppError;
    use crate::model::credential::{
        validate_description, validate_profile_name, CredentialForm, CredentialKind,
        CredentialProfileId, CredentialProfileSummary,
    };
    use crate::model::user::TenantId;
    use crate::state::AppState;

    /// What a web request answers when the database's secrets were sealed with another key
    /// than the one this process holds (a rotation ran while it was up).
    const KEY_CHANGED: &str = "the master key has changed since ispvm started (rotated?): restart \
         ispvm with the current ENCRYPTION_MASTER_KEY_FILE";

    /// Moves the form's secret fields into secret types as soon as they arrive.
    fn take_secrets(form: &mut CredentialForm) -> SecretInput {
        SecretInput {
            username: given(form.username.take()),
            password: given_secret(form.password.take()),
            community: given_secret(form.community.take()),
            snmp_user: given(form.snmp_user.take()),
            auth_protocol: given(form.auth_protocol.take()),
            auth_passphrase: given_secret(form.auth_passphrase.take()),
            priv_protocol: given(form.priv_protocol.take()),
            priv_passphrase: given_secret(form.priv_passphrase.take()),
        }
    }

    pub async fn list_credential_profiles() -> Result<Vec<CredentialProfileSummary>, AppError> {
        let (state, me) = staff_caller().await?;
        db::credentials::list(&state.pool, me.tenant_id).await
    }

    pub async fn get_credential_profile(id: i64) -> Result<CredentialProfileSummary, AppError> {
        let (state, me) = staff_caller().await?;
        db::credentials::get(&state.pool, me.tenant_id, CredentialProfileId(id)).await
    }

    pub async fn create_credential_profile(
        mut form: CredentialForm,
    ) -> Result<CredentialProfileId, AppError> {
        let secrets = take_secrets(&mut form);
        let (state, me) = admin_caller().await?;
        let name = validate_profile_name(&form.name)?;
        let kind: CredentialKind = form.kind.parse()?;
        let description = validate_description(form.description.as_deref().unwrap_or_default())?;
        let secret = CredentialSecret::from_input(kind, secrets)?;
        let key = state.master_key()?;
        let secret_uuid = Uuid::new_v4();
        let ciphertext = seal(key, &secret, me.tenant_id, secret_uuid)?;
        let mut tx = state.pool.begin().await?;
        ensure_current_key(&mut tx, key).await?;
        let id = db::credentials::insert(
            &mut *tx,
            me.tenant_id,
            &NewProfile {
                name: &name,
                kind,
                description: &description,
                secret_uuid,
                ciphertext: &ciphertext,
                key_fingerprint: key.fingerprint(),
            },
        )
        .await?;
        audit(
            &mut *tx,
            &me,
            "credential_profile.created",
            &name,
            json!({ "profile_id": id.0, "kind": kind.as_str() }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect("/inventory/credentials");
        Ok(id)
    }

    pub async fn update_credential_profile(
        id: i64,
        mut form: CredentialForm,
    ) -> Result<(), AppError> {
        let secrets = take_secrets(&mut form);
        let (state, me) = admin_caller().await?;
        let id = CredentialProfileId(id);
        let name = validate_profile_name(&form.name)?;
        let description = form
            .description
            .as_deref()
            .map(validate_description)
            .transpose()?;
        // A name or description edit needs no key; replacing a secret does.
        let secret_replaced = !secrets.is_empty();
        let key = if secret_replaced {
            Some(state.master_key()?)
        } else {
            None
        };
        let mut tx = state.pool.begin().await?;
        if let Some(key) = key {
            // Before the profile's row lock, in the order a rotation takes them (no deadlock).
            ensure_current_key(&mut tx, key).await?;
        }
        let stored = db::credentials::lock_sealed(&mut tx, me.tenant_id, id).await?;
        let ciphertext = match key {
            Some(key) => {
                let merged = open_sealed(key, &stored)?.merged(secrets)?;
                Some(seal(key, &merged, me.tenant_id, stored.secret_uuid)?)
            }
            None => None,
        };
        let new_secret = key
            .zip(ciphertext.as_deref())
            .map(|(key, ciphertext)| NewSecret {
                ciphertext,
                key_fingerprint: key.fingerprint(),
            });
        let description = description.unwrap_or_else(|| stored.description.clone());
        db::credentials::update(
            &mut *tx,
            me.tenant_id,
            id,
            &name,
            &description,
            new_secret.as_ref(),
        )
        .await?;
        audit(
            &mut *tx,
            &me,
            "credential_profile.updated",
            &name,
            json!({
                "profile_id": id.0,
                "renamed_from": (stored.name != name).then_some(&stored.name),
                "secret_replaced": secret_replaced,
            }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/inventory/credentials/{}?saved=1", id.0));
        Ok(())
    }

    pub async fn delete_credential_profile(id: i64) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let mut tx = state.pool.begin().await?;
        let name = db::credentials::delete(&mut tx, me.tenant_id, CredentialProfileId(id)).await?;
        audit(
            &mut *tx,
            &me,
            "credential_profile.deleted",
            &name,
            json!({ "profile_id": id }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect("/inventory/credentials");
        Ok(())
    }

    /// A profile's secret in plaintext, for server code that logs in to a device (collectors).
    /// Another tenant's profile is `NotFound`; without the master key the answer says to set
    /// one. Never send the result to a browser.
    pub async fn open_credential(
        state: &AppState,
        tenant: TenantId,
        id: CredentialProfileId,
    ) -> Result<CredentialSecret, AppError> {
        let key = state.master_key()?;
        let sealed = db::credentials::get_sealed(&state.pool, tenant, id).await?;
        open_sealed(key, &sealed)
    }

    /// Opens a profile already read (the agent listener reads an agent's profiles with its
    /// devices). `Unavailable` when it is sealed with another key than `key`, `Internal` when
    /// it does not open; both logged here.
    pub fn open_sealed(
        key: &MasterKey,
        sealed: &SealedProfile,
    ) -> Result<CredentialSecret, AppError> {
        if sealed.key_fingerprint != key.fingerprint() {
            tracing::error!(
                credential_profile.id = sealed.id.0,
                key.fingerprint = key.fingerprint(),
                sealed.fingerprint = %sealed.key_fingerprint,
                "credential profile is sealed with another master key"
            );
            return Err(AppError::Unavailable(KEY_CHANGED.into()));
        }
        CredentialSecret::open(
            key,
            sealed.tenant_id,
            sealed.kind,
            sealed.secret_uuid,
            &sealed.ciphertext,
        )
        .map_err(|err| {
            tracing::error!(
                credential_profile.id = sealed.id.0,
                error = %err,
                "credential profile does not open"
            );
            AppError::Internal
        })
    }

    fn seal(
        key: &MasterKey,
        secret: &CredentialSecret,
        tenant: TenantId,
        secret_uuid: Uuid,
    ) -> Result<Vec<u8>, AppError> {
        secret.seal(key, tenant, secret_uuid).map_err(|err| {
            tracing::error!(error = %err, "cannot seal a credential");
            AppError::Internal
        })
    }

    /// Holds the key-check row (shared) until the transaction ends and confirms it names this
    /// process's key: a rotation either finished before (then this key is stale and the write
    /// is refused) or waits until this write has committed (and re-seals it too).
    async fn ensure_current_key(conn: &mut PgConnection, key: &MasterKey) -> Result<(), AppError> {
        let check = db::encryption_key::get_for_share(conn).await?;
        match check {
            Some(check) if check.key_fingerprint == key.fingerprint() => Ok(()),
            other => {
                tracing::error!(
                    key.fingerprint = key.fingerprint(),
                    recorded.fingerprint = other.as_ref().map(|c| c.key_fingerprint.as_str()),
                    "the database's key check names another master key"
                );
                Err(AppError::Unavailable(KEY_CHANGED.into()))
            }
        }
    }
}
