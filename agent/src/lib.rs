//! `ispvm-agent`: polls the MikroTik routers of a POP over the RouterOS API (other devices over
//! SNMP), probes targets, and forwards the
//! samples to the ISPVM server's ingest API (`POST /api/ingest/v1/batches`), buffered on disk
//! so an outage of the server or the link loses nothing.
//!
//! The pipeline, one module per stage:
//!
//! - [`collect`]: pure parsers, RouterOS rows → telemetry samples, one file per menu.
//! - [`poll`]: the I/O around them: one reused session per router, per-router intervals,
//!   polls of different routers concurrent up to a cap; a failed poll becomes `up = down`.
//! - [`snmp`]: devices of other vendors over SNMP v2c/v3 (uptime, interfaces, CPU).
//! - [`probe`]: the agent's own ICMP, TCP, DNS and HTTP probes, into the same pipeline.
//! - [`seal`]: samples are gathered into batches, each given its `batch_id` when sealed.
//! - [`queue`]: sealed batches are written durably (gzip, CRC, fsync) before any send.
//! - [`send`]: drains the queue oldest first, with back-off, `Retry-After`, dead letters.
//! - [`config`] and [`fleet`]: the only readers of the environment, CLI and files (with the
//!   assignment cache).
//! - [`assignment`]: an enrolled agent without a fleet file polls what the server assigns it,
//!   fetched every minute and applied without a restart.
//! - [`run`]: wires the stages under one cancellation token.
//! - [`status`]: the local `GET /status` endpoint (buffer depth, last push, drops), and the
//!   same state reported to the server by an enrolled agent.
//! - [`identity`]: enrollment with a one-time token, the key and client certificate on disk,
//!   their renewal; [`link`]: the client to the server (bearer token or client certificate),
//!   swapped when the certificate is renewed.

pub mod assignment;
pub mod collect;
pub mod config;
pub mod fleet;
pub mod identity;
pub mod link;
pub mod poll;
pub mod probe;
pub mod queue;
pub mod run;
pub mod seal;
pub mod send;
pub mod snmp;
pub mod stats;
pub mod status;
