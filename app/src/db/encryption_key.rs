//! The `encryption_key_check` row: a known plaintext sealed under the current master key, which
//! proves at start-up that the configured key is the one the secrets were sealed with. One row
//! for the installation (it is not tenant-owned).

use sqlx::{PgConnection, PgExecutor};

use crate::error::AppError;

pub struct KeyCheck {
    /// Which key sealed it (`MasterKey::fingerprint`).
    pub key_fingerprint: String,
    pub ciphertext: Vec<u8>,
}

/// The key-check row, if a key has been recorded.
pub async fn get(db: impl PgExecutor<'_>) -> Result<Option<KeyCheck>, AppError> {
    Ok(sqlx::query_as!(
        KeyCheck,
        r#"select key_fingerprint, check_ciphertext as ciphertext
           from encryption_key_check"#
    )
    .fetch_optional(db)
    .await?)
}

/// The key-check row, share-locked until the transaction ends: a web request that seals a
/// secret holds it so that a key rotation waits for it (and it for the rotation).
pub async fn get_for_share(conn: &mut PgConnection) -> Result<Option<KeyCheck>, AppError> {
    Ok(sqlx::query_as!(
        KeyCheck,
        r#"select key_fingerprint, check_ciphertext as ciphertext
           from encryption_key_check for share"#
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// The key-check row, locked for the rotation that will replace it.
pub async fn get_for_update(conn: &mut PgConnection) -> Result<Option<KeyCheck>, AppError> {
    Ok(sqlx::query_as!(
        KeyCheck,
        r#"select key_fingerprint, check_ciphertext as ciphertext
           from encryption_key_check for update"#
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// Records the first key. Returns false if another process recorded one first (the caller
/// then checks against that one).
pub async fn insert_first(
    db: impl PgExecutor<'_>,
    key_fingerprint: &str,
    ciphertext: &[u8],
) -> Result<bool, AppError> {
    let inserted = sqlx::query!(
        r#"insert into encryption_key_check (key_fingerprint, check_ciphertext)
           values ($1, $2)
           on conflict (singleton) do nothing"#,
        key_fingerprint,
        ciphertext
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Replaces the key-check row (key rotation), or writes it if there was none.
pub async fn set(
    db: impl PgExecutor<'_>,
    key_fingerprint: &str,
    ciphertext: &[u8],
) -> Result<(), AppError> {
    sqlx::query!(
        r#"insert into encryption_key_check (key_fingerprint, check_ciphertext)
           values ($1, $2)
           on conflict (singleton) do update
           set key_fingerprint = excluded.key_fingerprint,
               check_ciphertext = excluded.check_ciphertext,
               created_at = now()"#,
        key_fingerprint,
        ciphertext
    )
    .execute(db)
    .await?;
    Ok(())
}
