//! Wire types and pure logic shared by the server and the browser. Nothing here touches the
//! database or the network.

pub mod audit;
pub mod summary;
pub mod user;
