//! `/login`: the plain method of RouterOS 6.43 and later, falling back to the MD5 challenge.
//!
//! The client always sends `/login =name= =password=`. A router from 6.43 on answers `!done`;
//! an older one ignores the password and answers `!done =ret=<challenge>` (32 hex digits),
//! which the client answers with `=name=` and `=response=00` followed by
//! hex(md5(0x00 ++ password ++ challenge bytes)). Both are in MikroTik's API manual ("Initial
//! login"). The fallback costs old routers one extra round trip and new ones nothing.

use md5::{Digest, Md5};
use secrecy::{ExposeSecret, SecretString};

use super::Client;
use crate::request::Request;
use crate::Error;

pub(super) async fn login(
    client: &Client,
    username: &str,
    password: &SecretString,
) -> Result<(), Error> {
    let plain = Request::new("/login")
        .attr("name", username)
        .attr("password", password.expose_secret());
    let response = client
        .call(&plain)
        .await
        .map_err(|e| refused(e, username))?;
    let Some(challenge) = response.done.get("ret") else {
        return Ok(());
    };
    let challenge = hex::decode(challenge).map_err(|e| Error::Protocol {
        peer: client.peer().to_owned(),
        detail: format!("login challenge {challenge:?} is not hex: {e}"),
    })?;
    let legacy = Request::new("/login").attr("name", username).attr(
        "response",
        challenge_response(password.expose_secret(), &challenge),
    );
    client
        .call(&legacy)
        .await
        .map_err(|e| refused(e, username))?;
    Ok(())
}

/// A trap during login means the credentials (or the user's API policy) were refused.
fn refused(error: Error, username: &str) -> Error {
    match error {
        Error::Trap { peer, message, .. } => Error::LoginRefused {
            peer,
            user: username.to_owned(),
            message,
        },
        other => other,
    }
}

/// `00` + hex(md5(0x00 ++ password ++ challenge)).
pub fn challenge_response(password: &str, challenge: &[u8]) -> String {
    let mut md5 = Md5::new();
    md5.update([0_u8]);
    md5.update(password.as_bytes());
    md5.update(challenge);
    format!("00{}", hex::encode(md5.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_response_matches_a_known_vector() {
        // md5(00 "secret" 00112233445566778899aabbccddeeff), computed independently with
        // Python: hashlib.md5(b"\0secret" + bytes.fromhex("0011…ff")).hexdigest().
        let challenge = hex::decode("00112233445566778899aabbccddeeff").expect("hex");
        assert_eq!(
            challenge_response("secret", &challenge),
            "00c17511d224a5e93170632807d36388aa"
        );
    }
}
