//! API-SSL: trusting the router's certificate, pinning, the default roots, the opt-out.

use super::*;

#[tokio::test]
async fn tls_with_the_routers_certificate_as_ca() {
    let fleet = fleet().await;
    let ca = fleet
        .router("tst-core-2")
        .and_then(|r| r.certificate.clone())
        .expect("a TLS router");
    let client = Client::connect(&tls_config(
        &fleet,
        Verification::Chain {
            roots: Roots::Ca(vec![ca]),
            pin: None,
        },
    ))
    .await
    .expect("TLS with the router's certificate as CA");
    let identity = client
        .call(&Request::new("/system/identity/print"))
        .await
        .expect("print");
    assert_eq!(identity.rows[0]["name"], "tst-core-2");
}

#[tokio::test]
async fn tls_verification_pinning_and_opt_out() {
    let fleet = fleet().await;
    let cert = fleet
        .router("tst-core-2")
        .and_then(|r| r.certificate.clone())
        .expect("a TLS router");
    // Default: the Mozilla roots, which do not know the self-signed certificate.
    let err = Client::connect(&tls_config(&fleet, TlsConfig::default().verification))
        .await
        .expect_err("untrusted");
    assert!(
        matches!(&err, Error::Tls { source, .. } if source.to_string().contains("UnknownIssuer")),
        "{err:?}"
    );
    // Pinned to the right fingerprint: accepted; to another: refused, naming both.
    Client::connect(&tls_config(
        &fleet,
        Verification::Pinned(Fingerprint::of(&cert)),
    ))
    .await
    .expect("pinned");
    let err = Client::connect(&tls_config(
        &fleet,
        Verification::Pinned(Fingerprint([7; 32])),
    ))
    .await
    .expect_err("pin mismatch");
    assert!(
        matches!(&err, Error::Tls { source, .. } if source.to_string().contains("does not match the pinned")),
        "{err:?}"
    );
    // Chain and pin together: both must hold.
    let err = Client::connect(&tls_config(
        &fleet,
        Verification::Chain {
            roots: Roots::Ca(vec![cert.clone()]),
            pin: Some(Fingerprint([7; 32])),
        },
    ))
    .await
    .expect_err("pin mismatch after a good chain");
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    // The explicit opt-out connects to anything.
    Client::connect(&tls_config(&fleet, Verification::Disabled))
        .await
        .expect("unverified");
    // A plain client on the TLS port gets no valid reply and fails, not hangs.
    let mut plain = config(&fleet, "tst-core-2");
    plain.request_timeout = Duration::from_secs(2);
    let err = Client::connect(&plain).await.expect_err("not TLS");
    assert!(
        matches!(
            err,
            Error::Protocol { .. } | Error::ConnectionLost { .. } | Error::RequestTimeout { .. }
        ),
        "{err:?}"
    );
}
