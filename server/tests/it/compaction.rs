//! Plain-PostgreSQL compaction: old raw days packed into `sample_packed` read back exactly,
//! only once they can no longer change, and go with the raw retention.

use rand::{Rng, SeedableRng};
use sqlx::PgPool;
use time::{Date, Duration, OffsetDateTime};

use app::db::telemetry::raw_readings;
use app::model::telemetry::SeriesId;
use server::config::TelemetryConfig;
use server::ingest::{maintenance, store};

/// Every raw sample, exactly: the value's bits, not a rounded text.
type Rows = Vec<(
    i64,
    OffsetDateTime,
    Option<Vec<u8>>,
    Option<String>,
    Option<String>,
)>;
type Intervals = Vec<(OffsetDateTime, OffsetDateTime, String, Option<String>)>;

const COUNTER: i64 = 1;
const GAUGE: i64 = 2;
const STATE: i64 = 3;
const ODD: i64 = 4;

/// Samples of four series over the days `first..=last`: a counter (whole numbers, wrapping
/// once), a gauge with fractions, a state series going down with a reason and back, and a
/// series of odd values (-0, negatives, numbers beyond 2^53, a day with a gap). Timestamps are
/// milliseconds with jitter, as agents send them, and some samples are sent twice.
async fn fill(pool: &PgPool, first: Date, last: Date) -> usize {
    store::ensure_partitions(pool, first, last)
        .await
        .expect("partitions");
    let mut rng = rand::rngs::StdRng::seed_from_u64(29);
    let (mut ids, mut ats, mut values, mut states, mut reasons) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut counter = 4.0e9_f64;
    let mut day = first;
    while day <= last {
        let midnight = day.midnight().assume_utc();
        for i in 0..2880 {
            let at =
                midnight + Duration::seconds(i * 30) + Duration::milliseconds(rng.gen_range(0..40));
            counter += f64::from(rng.gen_range(0..5_000_000_u32));
            if counter > 4.2e9 {
                counter -= 4.2e9;
            }
            let down = (900..960).contains(&i);
            let odd = match i % 5 {
                _ if (1000..1200).contains(&i) => None,
                0 => Some(-0.0),
                1 => Some(-rng.gen_range(0.0..1e3)),
                2 => Some(2f64.powi(60) + 2048.0 * f64::from(rng.gen_range(0..100_u32))),
                3 => Some(f64::from(rng.gen_range(0..100_u32))),
                _ => Some(1e-300),
            };
            let rows = [
                (COUNTER, Some(counter), None, None),
                (GAUGE, Some(rng.gen_range(0.0..100.0)), None, None),
                (
                    STATE,
                    None,
                    Some(if down { "down" } else { "up" }),
                    down.then_some("timeout"),
                ),
                (ODD, odd, None, None),
            ];
            let copies = if i % 97 == 0 { 2 } else { 1 };
            for (id, value, state, reason) in rows {
                if id == ODD && value.is_none() {
                    continue;
                }
                for _ in 0..copies {
                    ids.push(id);
                    ats.push(at);
                    values.push(value);
                    states.push(state.map(str::to_owned));
                    reasons.push(reason.map(str::to_owned));
                }
            }
        }
        day = day.next_day().expect("a next day");
    }
    sqlx::query(
        "insert into sample (series_id, at, value, state, reason)
         select * from unnest($1::int8[], $2::timestamptz[], $3::float8[], $4::text[], $5::text[])",
    )
    .bind(&ids)
    .bind(&ats)
    .bind(&values)
    .bind(&states)
    .bind(&reasons)
    .execute(pool)
    .await
    .expect("insert samples");
    ids.len()
}

/// Every sample of the four series through `telemetry_raw`, in one order.
async fn read_all(pool: &PgPool, from: OffsetDateTime, to: OffsetDateTime) -> Rows {
    sqlx::query_as(
        "select s.id, r.at, float8send(r.value), r.state, r.reason
         from unnest(array[1, 2, 3, 4]::int8[]) as s(id)
         cross join lateral telemetry_raw(s.id, $1, $2) r
         order by 1, 2, 3, 4, 5",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
    .expect("read raw")
}

async fn intervals(pool: &PgPool, from: OffsetDateTime, to: OffsetDateTime) -> Intervals {
    sqlx::query_as(
        "select start_at, end_at, state, reason
         from telemetry_state_intervals($1, $2, $3, interval '90 seconds')",
    )
    .bind(STATE)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
    .expect("intervals")
}

async fn set_1m_watermark(pool: &PgPool, at: OffsetDateTime) {
    sqlx::query(
        "insert into rollup_watermark (tier, rolled_to) values ('1m', $1)
         on conflict (tier) do update set rolled_to = excluded.rolled_to",
    )
    .bind(at)
    .execute(pool)
    .await
    .expect("watermark");
}

fn partition(day: Date) -> String {
    format!(
        "sample_{:04}{:02}{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn old_raw_days_are_packed_and_read_back_exactly(pool: PgPool) {
    let now = OffsetDateTime::now_utc();
    let today = now.date();
    let (first, last) = (today - Duration::days(12), today - Duration::days(6));
    let written = fill(&pool, first, last).await;
    let (from, to) = (
        first.midnight().assume_utc() - Duration::hours(1),
        today.midnight().assume_utc(),
    );
    let before = read_all(&pool, from, to).await;
    assert_eq!(before.len(), written);
    let before_intervals = intervals(&pool, from, to).await;
    assert!(
        before_intervals.iter().any(|i| i.2 == "down"),
        "{before_intervals:?}"
    );
    // Any window: one that starts and ends inside packed days.
    let window = (
        first.midnight().assume_utc() + Duration::hours(7),
        first.midnight().assume_utc() + Duration::hours(31),
    );
    let window_before = raw_readings(&pool, SeriesId(COUNTER), window, true)
        .await
        .expect("readings");
    // The setting asks for 3 days; plain mode waits 8 (the replay window and a day).
    let settings = TelemetryConfig {
        compress_after_days: 3,
        ..TelemetryConfig::default()
    };

    // Not before the 1m rollup has passed a day.
    let packed = maintenance::compact_once(&pool, &settings, now)
        .await
        .expect("compact")
        .expect("lock");
    assert!(packed.is_empty(), "no watermark yet: {packed:?}");
    let watermark_day = first + Duration::days(2);
    set_1m_watermark(&pool, watermark_day.midnight().assume_utc()).await;
    let packed = maintenance::compact_once(&pool, &settings, now)
        .await
        .expect("compact")
        .expect("lock");
    assert_eq!(
        packed,
        vec![partition(first), partition(first + Duration::days(1))]
    );

    set_1m_watermark(&pool, now).await;
    let packed = maintenance::compact_once(&pool, &settings, now)
        .await
        .expect("compact")
        .expect("lock");
    // Days ending 8 days ago or earlier: today-12 .. today-9 in all.
    let expected: Vec<String> = (2..4)
        .map(|d| partition(first + Duration::days(d)))
        .collect();
    assert_eq!(packed, expected);
    for d in 0..4 {
        let name = partition(first + Duration::days(d));
        let exists: bool = sqlx::query_scalar("select to_regclass($1) is not null")
            .bind(&name)
            .fetch_one(&pool)
            .await
            .expect("regclass");
        assert!(!exists, "{name} is dropped");
    }
    let (rows, days): (i64, i64) =
        sqlx::query_as("select count(*), count(distinct day) from sample_packed")
            .fetch_one(&pool)
            .await
            .expect("packed rows");
    assert_eq!((rows, days), (16, 4), "one row per series and day");
    let kinds: Vec<(i64, bool, bool, bool)> = sqlx::query_as(
        "select series_id, bool_and(value_deltas is not null), bool_and(vals is not null),
                bool_and(states is not null)
         from sample_packed group by 1 order by 1",
    )
    .fetch_all(&pool)
    .await
    .expect("kinds");
    assert_eq!(
        kinds,
        vec![
            (COUNTER, true, false, false),
            (GAUGE, false, true, false),
            (STATE, false, false, true),
            (ODD, false, true, false),
        ]
    );

    // Every sample comes back, bit for bit; the reads built on them answer the same.
    assert_eq!(read_all(&pool, from, to).await, before);
    assert_eq!(intervals(&pool, from, to).await, before_intervals);
    assert_eq!(
        raw_readings(&pool, SeriesId(COUNTER), window, true)
            .await
            .expect("readings"),
        window_before
    );
    let newest_packed: (OffsetDateTime, Option<f64>) =
        sqlx::query_as("select at, value from telemetry_latest($1, $2, true)")
            .bind(GAUGE)
            .bind((first + Duration::days(4)).midnight().assume_utc())
            .fetch_one(&pool)
            .await
            .expect("latest");
    let expected: (OffsetDateTime, Option<f64>) = before
        .iter()
        .filter(|r| r.0 == GAUGE && r.1 < (first + Duration::days(4)).midnight().assume_utc())
        .map(|r| {
            let bits = r.2.as_deref().expect("a value");
            (
                r.1,
                Some(f64::from_be_bytes(bits.try_into().expect("8 bytes"))),
            )
        })
        .next_back()
        .expect("gauge rows");
    assert_eq!(newest_packed, expected);

    // The raw retention removes packed days as it drops partitions.
    let report = maintenance::retention_once(
        &pool,
        &settings,
        (first + Duration::days(32)).midnight().assume_utc(),
    )
    .await
    .expect("retention")
    .expect("lock");
    assert_eq!(report.deleted_packed, 8, "{report:?}");
    let left: Vec<Date> = sqlx::query_scalar("select distinct day from sample_packed order by 1")
        .fetch_all(&pool)
        .await
        .expect("left");
    assert_eq!(
        left,
        vec![first + Duration::days(2), first + Duration::days(3)]
    );
}
