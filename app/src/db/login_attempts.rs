//! Sign-in attempts: the evidence the throttle judges.

use sqlx::PgExecutor;
use time::Duration;

use crate::auth::throttle::RecentFailures;
use crate::error::AppError;

pub async fn record(
    db: impl PgExecutor<'_>,
    username: &str,
    source_ip: &str,
    succeeded: bool,
) -> Result<(), AppError> {
    sqlx::query!(
        "insert into login_attempt (username, source_ip, succeeded) values ($1, $2::text::inet, $3)",
        username,
        source_ip,
        succeeded
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Failures for the username and for the address inside the window. A success for the account
/// resets its count (failures before the last success do not count).
pub async fn recent_failures(
    db: impl PgExecutor<'_>,
    username: &str,
    source_ip: &str,
    window: Duration,
) -> Result<RecentFailures, AppError> {
    let secs = window.whole_seconds() as f64;
    let r = sqlx::query!(
        r#"with acct as (
               select at from login_attempt
               where username = $1 and not succeeded
                 and at > now() - make_interval(secs => $3)
                 and at > coalesce((select max(at) from login_attempt
                                    where username = $1 and succeeded), '-infinity')
           ), addr as (
               select at from login_attempt
               where source_ip = $2::text::inet and not succeeded
                 and at > now() - make_interval(secs => $3)
           )
           select (select count(*) from acct) as "account!",
                  (select min(at) from acct) as account_oldest,
                  (select count(*) from addr) as "ip!",
                  (select min(at) from addr) as ip_oldest"#,
        username,
        source_ip,
        secs
    )
    .fetch_one(db)
    .await?;
    Ok(RecentFailures {
        account: r.account,
        account_oldest: r.account_oldest,
        ip: r.ip,
        ip_oldest: r.ip_oldest,
    })
}

/// Forgets attempts older than `keep`; run by the background service.
pub async fn prune(db: impl PgExecutor<'_>, keep: Duration) -> Result<u64, AppError> {
    let secs = keep.whole_seconds() as f64;
    let done = sqlx::query!(
        "delete from login_attempt where at < now() - make_interval(secs => $1)",
        secs
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
