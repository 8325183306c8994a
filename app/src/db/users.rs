//! Users: sign-in lookup, session validation, and the tenant-scoped admin queries.

use sqlx::{PgConnection, PgExecutor};

use crate::auth::AuthUser;
use crate::db::{is_unique_violation, like_pattern, rfc3339};
use crate::error::AppError;
use crate::model::user::{Role, TenantId, UserId, UserRow};

/// What session validation needs besides the user.
pub struct SessionRecord {
    pub user: AuthUser,
    pub disabled: bool,
    pub session_epoch: i32,
}

pub struct LoginRecord {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub username: String,
    pub password_hash: String,
    pub disabled: bool,
    pub session_epoch: i32,
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub is_superadmin: bool,
    pub password_hash: &'a str,
}

fn parse_role(s: &str) -> Result<Role, AppError> {
    s.parse().map_err(|_| {
        tracing::error!(role = s, "unknown role in database");
        AppError::Internal
    })
}

pub async fn get_for_session(
    db: impl PgExecutor<'_>,
    id: UserId,
) -> Result<Option<SessionRecord>, AppError> {
    let row = sqlx::query!(
        r#"select u.id, u.tenant_id, u.username, u.display_name, u.role, u.is_superadmin,
                  u.disabled, u.session_epoch, t.name as tenant_name
           from app_user u join tenant t on t.id = u.tenant_id
           where u.id = $1"#,
        id.0
    )
    .fetch_optional(db)
    .await?;
    row.map(|r| {
        Ok(SessionRecord {
            user: AuthUser {
                id: UserId(r.id),
                tenant_id: TenantId(r.tenant_id),
                username: r.username,
                display_name: r.display_name,
                role: parse_role(&r.role)?,
                is_superadmin: r.is_superadmin,
                tenant_name: r.tenant_name,
            },
            disabled: r.disabled,
            session_epoch: r.session_epoch,
        })
    })
    .transpose()
}

pub async fn find_for_login(
    db: impl PgExecutor<'_>,
    username: &str,
) -> Result<Option<LoginRecord>, AppError> {
    let row = sqlx::query!(
        r#"select id, tenant_id, username, password_hash, disabled, session_epoch
           from app_user where lower(username) = lower($1)"#,
        username
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| LoginRecord {
        id: UserId(r.id),
        tenant_id: TenantId(r.tenant_id),
        username: r.username,
        password_hash: r.password_hash,
        disabled: r.disabled,
        session_epoch: r.session_epoch,
    }))
}

pub async fn touch_login(db: impl PgExecutor<'_>, id: UserId) -> Result<(), AppError> {
    sqlx::query!(
        "update app_user set last_login_at = now() where id = $1",
        id.0
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Users of a tenant, optionally filtered by a substring of username or display name.
pub async fn list(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    query: Option<&str>,
) -> Result<Vec<UserRow>, AppError> {
    let pattern = like_pattern(query);
    let rows = sqlx::query!(
        r#"select id, username, display_name, role, disabled, last_login_at
           from app_user
           where tenant_id = $1
             and ($2::text is null or username ilike $2 or display_name ilike $2)
           order by username
           limit 1000"#,
        tenant.0,
        pattern
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(UserRow {
                id: UserId(r.id),
                username: r.username,
                display_name: r.display_name,
                role: parse_role(&r.role)?,
                disabled: r.disabled,
                last_login_at: r.last_login_at.map(rfc3339),
            })
        })
        .collect()
}

/// One user of the tenant; another tenant's user is `NotFound`.
pub async fn get(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: UserId,
) -> Result<UserRow, AppError> {
    let r = sqlx::query!(
        r#"select id, username, display_name, role, disabled, last_login_at
           from app_user where tenant_id = $1 and id = $2"#,
        tenant.0,
        id.0
    )
    .fetch_optional(db)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(UserRow {
        id: UserId(r.id),
        username: r.username,
        display_name: r.display_name,
        role: parse_role(&r.role)?,
        disabled: r.disabled,
        last_login_at: r.last_login_at.map(rfc3339),
    })
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    user: &NewUser<'_>,
) -> Result<UserId, AppError> {
    let id = sqlx::query_scalar!(
        r#"insert into app_user (tenant_id, username, display_name, role, is_superadmin, password_hash)
           values ($1, $2, $3, $4, $5, $6) returning id"#,
        tenant.0,
        user.username,
        user.display_name,
        user.role.as_str(),
        user.is_superadmin,
        user.password_hash
    )
    .fetch_one(db)
    .await
    .map_err(|err| {
        if is_unique_violation(&err) {
            AppError::conflict("username", "is already taken")
        } else {
            err.into()
        }
    })?;
    Ok(UserId(id))
}

/// Changes a user's role; refuses to demote the tenant's last active admin.
pub async fn set_role(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
    role: Role,
) -> Result<(), AppError> {
    let current = get(&mut *conn, tenant, id).await?;
    if current.role == Role::Admin && role != Role::Admin && !current.disabled {
        ensure_other_active_admin(&mut *conn, tenant, id).await?;
    }
    sqlx::query!(
        "update app_user set role = $3, updated_at = now() where tenant_id = $1 and id = $2",
        tenant.0,
        id.0,
        role.as_str()
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets a new password hash and voids the user's existing sessions; returns the new epoch.
pub async fn set_password(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: UserId,
    password_hash: &str,
) -> Result<i32, AppError> {
    sqlx::query_scalar!(
        r#"update app_user
           set password_hash = $3, session_epoch = session_epoch + 1,
               credentials_changed_at = now(), updated_at = now()
           where tenant_id = $1 and id = $2
           returning session_epoch"#,
        tenant.0,
        id.0,
        password_hash
    )
    .fetch_optional(db)
    .await?
    .ok_or(AppError::NotFound)
}

/// Disables (voiding sessions) or re-enables a user; refuses to disable the last active admin.
pub async fn set_disabled(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
    disabled: bool,
) -> Result<(), AppError> {
    let current = get(&mut *conn, tenant, id).await?;
    if disabled && current.role == Role::Admin && !current.disabled {
        ensure_other_active_admin(&mut *conn, tenant, id).await?;
    }
    force_disabled(&mut *conn, tenant, id, disabled).await
}

async fn ensure_other_active_admin(
    conn: &mut PgConnection,
    tenant: TenantId,
    except: UserId,
) -> Result<(), AppError> {
    // Row locks on the tenant's admins so two concurrent demotions cannot both pass.
    let others = sqlx::query_scalar!(
        r#"select id from app_user
           where tenant_id = $1 and role = 'admin' and not disabled and id <> $2
           for update"#,
        tenant.0,
        except.0
    )
    .fetch_all(&mut *conn)
    .await?;
    if others.is_empty() {
        return Err(AppError::invalid(
            "role",
            "the tenant must keep at least one active admin",
        ));
    }
    Ok(())
}

/// Number of users in the whole installation (bootstrap: create the first admin when zero).
pub async fn count_all(db: impl PgExecutor<'_>) -> Result<i64, AppError> {
    Ok(
        sqlx::query_scalar!(r#"select count(*) as "n!" from app_user"#)
            .fetch_one(db)
            .await?,
    )
}

/// Looks a user up by name across tenants, for the CLI.
pub async fn find_by_username(
    db: impl PgExecutor<'_>,
    username: &str,
) -> Result<Option<(TenantId, UserId)>, AppError> {
    let row = sqlx::query!(
        "select tenant_id, id from app_user where lower(username) = lower($1)",
        username
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (TenantId(r.tenant_id), UserId(r.id))))
}

/// Disables or enables without the last-admin guard (the CLI's break-glass path).
pub async fn force_disabled(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: UserId,
    disabled: bool,
) -> Result<(), AppError> {
    sqlx::query!(
        r#"update app_user
           set disabled = $3, updated_at = now(),
               session_epoch = session_epoch + case when $3 then 1 else 0 end
           where tenant_id = $1 and id = $2"#,
        tenant.0,
        id.0,
        disabled
    )
    .execute(db)
    .await?;
    Ok(())
}
