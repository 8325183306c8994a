//! The RouterOS API wire protocol: framing, replies, an async client with per-router sessions,
//! and a simulator of a whole fleet that speaks the same protocol.
//!
//! The spec is MikroTik's API manual (<https://help.mikrotik.com/docs/spaces/ROS/pages/47579160/API>).
//! The pieces, bottom up:
//!
//! - [`codec`]: a *word* is a 1–5 byte length prefix plus bytes; a *sentence* is words ended by
//!   a zero-length word. Incremental decoding with size limits; reserved control bytes are
//!   errors.
//! - [`reply`]: `!re` (one item's `=key=value` attributes), `!done` (end, maybe `=ret=`),
//!   `!trap` (error: category, message), `!fatal` (the router closes), `!empty` (7.18+: no
//!   items). Every reply to a tagged command carries its `.tag`.
//! - [`request`]: a command, `=attribute=` words, `=.proplist=` and `?` query words.
//! - [`client`]: connect (optionally API-SSL, see [`tls`]), log in (plain for RouterOS ≥ 6.43,
//!   falling back to the MD5 challenge of older versions), then run many commands at once on one
//!   connection, routed by `.tag`, each with a timeout that sends `/cancel`.
//! - [`rest`]: the RouterOS v7 REST API (`POST /rest/<menu>/print` over HTTPS, the same
//!   `.proplist` and queries), a second transport for the same requests.
//! - [`session`]: the one connection kept per router (API or REST, by
//!   [`ClientConfig::transport`]), reopened with exponential back-off and guarded by a circuit
//!   breaker.
//! - [`sim`] and the `ispvm-sim` binary: virtual routers from a fleet file, each on its own
//!   loopback address, with deterministic, believable data for the paths collectors read, and
//!   scripted faults (router or link down, congestion, packet loss, BGP flap, mass PPPoE
//!   disconnect) from a scenario file or a line-based control port.
//!
//! Why hand-written: of the crates on crates.io, `mikrotik-rs` (async, tag-multiplexed) has no
//! legacy login, no API-SSL, no queries or `.proplist` helpers and no request timeouts/cancel;
//! `mikrotik_api` (last release 2022) has no queries; `mikrotik` is a REST wrapper. None has a
//! simulator, and the protocol is small, so owning it costs less than patching around them.
//! `scripts/routeros-interop.sh` checks the simulator against librouteros (Python, PyPI), so
//! our client and simulator do not merely agree with each other.

pub mod client;
pub mod codec;
mod error;
pub mod reply;
pub mod request;
pub mod rest;
pub mod session;
pub mod sim;
pub mod tls;

pub use client::{Client, ClientConfig, Response, Transport};
pub use error::{error_chain, Error};
pub use reply::{Attributes, Reply, ReplyKind, Trap};
pub use request::{Query, Request};
pub use session::Session;
