//! Credential profiles and the encryption key-check row. Profiles are read and written here
//! only as ciphertext; sealing and opening is `crypto::credential`'s, done by the callers.
//!
//! The tenant-scoped queries serve the web app. The unscoped ones (`count_all`,
//! `fingerprints_in_use`, `all_sealed_for_update`, `set_sealed`) serve start-up and
//! `ispvm keys rotate`, which act on the whole installation. The key-check row is
//! `db::encryption_key`.

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::db::rfc3339;
use crate::error::AppError;
use crate::model::credential::{CredentialKind, CredentialProfileId, CredentialProfileSummary};
use crate::model::user::TenantId;

/// A profile as stored: its ciphertext with what opening it needs, and its name and description.
pub struct SealedProfile {
    pub id: CredentialProfileId,
    pub tenant_id: TenantId,
    pub name: String,
    pub description: String,
    pub kind: CredentialKind,
    pub secret_uuid: Uuid,
    pub ciphertext: Vec<u8>,
    pub key_fingerprint: String,
}

pub struct NewProfile<'a> {
    pub name: &'a str,
    pub kind: CredentialKind,
    pub description: &'a str,
    pub secret_uuid: Uuid,
    pub ciphertext: &'a [u8],
    pub key_fingerprint: &'a str,
}

/// A re-sealed secret, replacing the stored one.
pub struct NewSecret<'a> {
    pub ciphertext: &'a [u8],
    pub key_fingerprint: &'a str,
}

fn parse_kind(s: &str) -> Result<CredentialKind, AppError> {
    s.parse().map_err(|_| {
        tracing::error!(kind = s, "unknown credential kind in database");
        AppError::Internal
    })
}

struct SummaryRow {
    id: i64,
    name: String,
    kind: String,
    description: String,
    key_fingerprint: String,
    used_by_devices: i64,
    updated_at: time::OffsetDateTime,
}

impl SummaryRow {
    fn into_summary(self) -> Result<CredentialProfileSummary, AppError> {
        Ok(CredentialProfileSummary {
            id: CredentialProfileId(self.id),
            name: self.name,
            kind: parse_kind(&self.kind)?,
            description: self.description,
            key_fingerprint: self.key_fingerprint,
            used_by_devices: self.used_by_devices,
            updated_at: rfc3339(self.updated_at),
        })
    }
}

struct SealedRow {
    id: i64,
    tenant_id: i64,
    name: String,
    description: String,
    kind: String,
    secret_uuid: Uuid,
    secret_ciphertext: Vec<u8>,
    key_fingerprint: String,
}

impl SealedRow {
    fn into_sealed(self) -> Result<SealedProfile, AppError> {
        Ok(SealedProfile {
            id: CredentialProfileId(self.id),
            tenant_id: TenantId(self.tenant_id),
            name: self.name,
            description: self.description,
            kind: parse_kind(&self.kind)?,
            secret_uuid: self.secret_uuid,
            ciphertext: self.secret_ciphertext,
            key_fingerprint: self.key_fingerprint,
        })
    }
}

/// A duplicate name (ignoring case) is a conflict on the form's `name` field.
fn name_conflict(err: sqlx::Error) -> AppError {
    match &err {
        sqlx::Error::Database(db) if db.constraint() == Some("credential_profile_name_key") => {
            AppError::conflict("name", "another credential profile has this name")
        }
        _ => err.into(),
    }
}

fn in_use(devices: i64) -> AppError {
    let devices = if devices == 1 {
        "1 device uses it".to_owned()
    } else {
        format!("{devices} devices use it")
    };
    AppError::conflict(
        "id",
        format!("{devices}; give them another profile before deleting this one"),
    )
}

/// The tenant's profiles by name, with how many devices use each.
pub async fn list(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<CredentialProfileSummary>, AppError> {
    let rows = sqlx::query_as!(
        SummaryRow,
        r#"select p.id, p.name, p.kind, p.description, p.key_fingerprint, p.updated_at,
                  (select count(*) from device d
                   where d.tenant_id = p.tenant_id
                     and (d.credential_profile_id = p.id or d.snmp_profile_id = p.id))
                  as "used_by_devices!"
           from credential_profile p
           where p.tenant_id = $1
           order by lower(p.name)
           limit 1000"#,
        tenant.0
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(SummaryRow::into_summary).collect()
}

/// The credential profiles a device may name, as (id, "name (kind)"), for the device form.
pub async fn choices(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<(i64, String)>, AppError> {
    let rows = sqlx::query!(
        "select id, name, kind from credential_profile where tenant_id = $1 order by name limit 5000",
        tenant.0
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, format!("{} ({})", r.name, r.kind)))
        .collect())
}

/// One profile of the tenant; another tenant's is `NotFound`.
pub async fn get(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: CredentialProfileId,
) -> Result<CredentialProfileSummary, AppError> {
    sqlx::query_as!(
        SummaryRow,
        r#"select p.id, p.name, p.kind, p.description, p.key_fingerprint, p.updated_at,
                  (select count(*) from device d
                   where d.tenant_id = p.tenant_id
                     and (d.credential_profile_id = p.id or d.snmp_profile_id = p.id))
                  as "used_by_devices!"
           from credential_profile p
           where p.tenant_id = $1 and p.id = $2"#,
        tenant.0,
        id.0
    )
    .fetch_optional(db)
    .await?
    .ok_or(AppError::NotFound)?
    .into_summary()
}

/// A profile's ciphertext, to open it; another tenant's is `NotFound`.
pub async fn get_sealed(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: CredentialProfileId,
) -> Result<SealedProfile, AppError> {
    sqlx::query_as!(
        SealedRow,
        r#"select id, tenant_id, name, description, kind, secret_uuid, secret_ciphertext,
                  key_fingerprint
           from credential_profile where tenant_id = $1 and id = $2"#,
        tenant.0,
        id.0
    )
    .fetch_optional(db)
    .await?
    .ok_or(AppError::NotFound)?
    .into_sealed()
}

/// As [`get_sealed`], locking the row until the transaction ends (an edit that re-seals it).
pub async fn lock_sealed(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: CredentialProfileId,
) -> Result<SealedProfile, AppError> {
    sqlx::query_as!(
        SealedRow,
        r#"select id, tenant_id, name, description, kind, secret_uuid, secret_ciphertext,
                  key_fingerprint
           from credential_profile where tenant_id = $1 and id = $2
           for update"#,
        tenant.0,
        id.0
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?
    .into_sealed()
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    profile: &NewProfile<'_>,
) -> Result<CredentialProfileId, AppError> {
    let id = sqlx::query_scalar!(
        r#"insert into credential_profile
               (tenant_id, name, kind, description, secret_uuid, secret_ciphertext, key_fingerprint)
           values ($1, $2, $3, $4, $5, $6, $7)
           returning id"#,
        tenant.0,
        profile.name,
        profile.kind.as_str(),
        profile.description,
        profile.secret_uuid,
        profile.ciphertext,
        profile.key_fingerprint
    )
    .fetch_one(db)
    .await
    .map_err(name_conflict)?;
    Ok(CredentialProfileId(id))
}

/// Renames and re-describes a profile, and replaces its secret if `secret` is given.
pub async fn update(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: CredentialProfileId,
    name: &str,
    description: &str,
    secret: Option<&NewSecret<'_>>,
) -> Result<(), AppError> {
    sqlx::query_scalar!(
        r#"update credential_profile
           set name = $3, description = $4,
               secret_ciphertext = coalesce($5, secret_ciphertext),
               key_fingerprint = coalesce($6, key_fingerprint),
               updated_at = now()
           where tenant_id = $1 and id = $2
           returning id"#,
        tenant.0,
        id.0,
        name,
        description,
        secret.map(|s| s.ciphertext),
        secret.map(|s| s.key_fingerprint)
    )
    .fetch_optional(db)
    .await
    .map_err(name_conflict)?
    .ok_or(AppError::NotFound)?;
    Ok(())
}

/// Deletes a profile that no device uses; one in use is a conflict naming how many use it.
/// Returns the deleted profile's name.
pub async fn delete(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: CredentialProfileId,
) -> Result<String, AppError> {
    let profile = lock_sealed(&mut *conn, tenant, id).await?;
    let devices = sqlx::query_scalar!(
        r#"select count(*) as "n!" from device
           where tenant_id = $1 and (credential_profile_id = $2 or snmp_profile_id = $2)"#,
        tenant.0,
        id.0
    )
    .fetch_one(&mut *conn)
    .await?;
    if devices > 0 {
        return Err(in_use(devices));
    }
    // A device added since the count makes the foreign key refuse (23503): the same answer.
    sqlx::query!(
        "delete from credential_profile where tenant_id = $1 and id = $2",
        tenant.0,
        id.0
    )
    .execute(&mut *conn)
    .await
    .map_err(|err| match &err {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23503") => in_use(1),
        _ => err.into(),
    })?;
    Ok(profile.name)
}

/// Number of profiles in the whole installation (start-up: are there secrets to protect?).
pub async fn count_all(db: impl PgExecutor<'_>) -> Result<i64, AppError> {
    Ok(
        sqlx::query_scalar!(r#"select count(*) as "n!" from credential_profile"#)
            .fetch_one(db)
            .await?,
    )
}

/// The fingerprints of the keys that sealed the installation's profiles.
pub async fn fingerprints_in_use(db: impl PgExecutor<'_>) -> Result<Vec<String>, AppError> {
    Ok(sqlx::query_scalar!(
        "select distinct key_fingerprint from credential_profile order by key_fingerprint"
    )
    .fetch_all(db)
    .await?)
}

/// Every profile of every tenant, locked until the transaction ends (key rotation).
pub async fn all_sealed_for_update(
    conn: &mut PgConnection,
) -> Result<Vec<SealedProfile>, AppError> {
    let rows = sqlx::query_as!(
        SealedRow,
        r#"select id, tenant_id, name, description, kind, secret_uuid, secret_ciphertext,
                  key_fingerprint
           from credential_profile order by id
           for update"#
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(SealedRow::into_sealed).collect()
}

/// Replaces a profile's ciphertext by id, across tenants (key rotation). Not an edit:
/// `updated_at` stays.
pub async fn set_sealed(
    db: impl PgExecutor<'_>,
    id: CredentialProfileId,
    secret: &NewSecret<'_>,
) -> Result<(), AppError> {
    sqlx::query!(
        r#"update credential_profile set secret_ciphertext = $2, key_fingerprint = $3
           where id = $1"#,
        id.0,
        secret.ciphertext,
        secret.key_fingerprint
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Every profile of the tenant as (id, name), for name lookups (CSV import).
pub async fn names(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<(i64, String)>, AppError> {
    let rows = sqlx::query!(
        "select id, name from credential_profile where tenant_id = $1",
        tenant.0
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}
