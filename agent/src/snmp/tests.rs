use super::walk::step;
use super::*;

fn table(rows: &[(&'static str, u64, Owned)]) -> Table {
    let mut t = Table::default();
    for (column, index, value) in rows {
        t.insert(column, *index, value.clone());
    }
    t
}

#[test]
fn a_walk_step_follows_each_column_until_it_leaves() {
    let columns = [
        Column::new("ifName", &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1]),
        Column::new("ifHighSpeed", &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15]),
    ];
    let cursors = columns
        .iter()
        .enumerate()
        .map(|(i, c)| (i, c.prefix.to_vec()))
        .collect();
    let at = |column: u64, index: u64| vec![1, 3, 6, 1, 2, 1, 31, 1, 1, 1, column, index];
    let mut t = Table::default();
    // Two repetitions: ifName has rows 1 and 2; ifHighSpeed row 1, then the walk left it
    // (the next column's first row).
    let cursors = step(
        &columns,
        cursors,
        vec![
            (at(1, 1), Owned::Text("lo".into())),
            (at(15, 1), Owned::Unsigned(10)),
            (at(1, 2), Owned::Text("eth0".into())),
            (at(16, 1), Owned::Integer(1)),
        ],
        &mut t,
    );
    assert_eq!(cursors, vec![(0, at(1, 2))]);
    assert_eq!(t.get("ifName", 2), Some(&Owned::Text("eth0".into())));
    assert_eq!(t.get("ifHighSpeed", 1), Some(&Owned::Unsigned(10)));
    assert_eq!(t.column("ifHighSpeed").len(), 1);
    // An agent that repeats an OID ends the column instead of looping the walk.
    let repeated = step(
        &columns,
        cursors.clone(),
        vec![(at(1, 2), Owned::Text("eth0".into()))],
        &mut t,
    );
    assert!(repeated.is_empty());
    // endOfMibView, and an empty answer, end the walk too.
    assert!(step(
        &columns,
        cursors.clone(),
        vec![(at(1, 3), Owned::End)],
        &mut t
    )
    .is_empty());
    assert!(step(&columns, cursors, Vec::new(), &mut t).is_empty());
}

#[test]
fn interfaces_uptime_and_cpu_become_the_routeros_series() {
    let t = table(&[
        ("ifDescr", 1, Owned::Text("lo".into())),
        (
            "ifDescr",
            2,
            Owned::Text("Intel Corporation 82540EM".into()),
        ),
        ("ifDescr", 3, Owned::Text("eth1".into())),
        ("ifName", 2, Owned::Text("eth0".into())),
        ("ifType", 1, Owned::Integer(24)),
        ("ifType", 2, Owned::Integer(6)),
        ("ifType", 3, Owned::Integer(6)),
        ("ifAdminStatus", 1, Owned::Integer(1)),
        ("ifAdminStatus", 2, Owned::Integer(1)),
        ("ifAdminStatus", 3, Owned::Integer(2)),
        ("ifOperStatus", 1, Owned::Integer(1)),
        ("ifOperStatus", 2, Owned::Integer(1)),
        ("ifOperStatus", 3, Owned::Integer(2)),
        ("ifInOctets", 1, Owned::Unsigned(7)),
        ("ifHCInOctets", 2, Owned::Unsigned(5_000_000_000)),
        ("ifInOctets", 2, Owned::Unsigned(705_032_704)),
        ("ifHCInUcastPkts", 2, Owned::Unsigned(100)),
        ("ifHCInMulticastPkts", 2, Owned::Unsigned(20)),
        ("ifHCInBroadcastPkts", 2, Owned::Unsigned(3)),
        ("ifOutErrors", 2, Owned::Unsigned(4)),
        ("ifHighSpeed", 2, Owned::Unsigned(1_000)),
        ("ifSpeed", 1, Owned::Unsigned(10_000_000)),
        ("ifHighSpeed", 3, Owned::Unsigned(1_000)),
        ("hrProcessorLoad", 196_608, Owned::Integer(10)),
        ("hrProcessorLoad", 196_609, Owned::Integer(30)),
    ]);
    let mut out = Out::new(DeviceRef::Name("sw-1".into()), UnixMs(1_800_000_000_000));
    parse(&t, &mut out);
    crate::collect::assert_valid(&out.samples);
    let value = |metric: &str, instance: Option<&str>| {
        out.samples
            .iter()
            .find(|s| s.metric == metric && s.instance.as_deref() == instance)
            .map(|s| s.value.clone())
    };
    use telemetry::Value;
    // ifName wins over ifDescr; the 64-bit counter over the 32-bit one.
    assert_eq!(
        value("interface_rx_bytes_total", Some("eth0")),
        Some(Value::Number(5e9))
    );
    assert_eq!(
        value(
            "interface_rx_bytes_total",
            Some("Intel Corporation 82540EM")
        ),
        None
    );
    // Without a 64-bit counter, the 32-bit one.
    assert_eq!(
        value("interface_rx_bytes_total", Some("lo")),
        Some(Value::Number(7.0))
    );
    assert_eq!(
        value("interface_rx_packets_total", Some("eth0")),
        Some(Value::Number(123.0))
    );
    assert_eq!(
        value("interface_tx_errors_total", Some("eth0")),
        Some(Value::Number(4.0))
    );
    assert_eq!(
        value("interface_running", Some("eth0")),
        Some(Value::State("up".into()))
    );
    // Administratively down is `disabled`, not an outage, and has no speed.
    assert_eq!(
        value("interface_running", Some("eth1")),
        Some(Value::State("disabled".into()))
    );
    assert_eq!(value("interface_speed_bps", Some("eth1")), None);
    assert_eq!(
        value("interface_speed_bps", Some("eth0")),
        Some(Value::Number(1e9))
    );
    assert_eq!(
        value("interface_speed_bps", Some("lo")),
        Some(Value::Number(1e7)),
        "ifSpeed when there is no ifHighSpeed"
    );
    let eth0 = out
        .samples
        .iter()
        .find(|s| s.metric == "interface_running" && s.instance.as_deref() == Some("eth0"))
        .expect("eth0 state");
    assert_eq!(eth0.labels.get("type").map(String::as_str), Some("ether"));
    assert_eq!(
        value("cpu_load_percent", None),
        Some(Value::Number(20.0)),
        "the mean over the processors"
    );
}

#[test]
fn auth_settings_are_checked_and_never_printed() {
    let secret = |s: &str| Some(SecretString::from(s.to_owned()));
    let v2c = auth_from(
        "v2c",
        secret("s3cret-community"),
        None,
        (None, None),
        (None, None),
    )
    .expect("v2c");
    assert!(!format!("{v2c:?}").contains("s3cret"));
    assert!(auth_from("v2c", None, None, (None, None), (None, None))
        .expect_err("no community")
        .to_string()
        .contains("community"));
    let v3 = auth_from(
        "v3",
        None,
        Some("ispvm".into()),
        (Some("sha256".into()), secret("auth-pass-1")),
        (Some("aes256".into()), secret("priv-pass-1")),
    )
    .expect("v3");
    let shown = format!("{v3:?}");
    assert!(
        shown.contains("Sha256") && shown.contains("Aes256"),
        "{shown}"
    );
    assert!(!shown.contains("pass-1"), "{shown}");
    let short = auth_from(
        "v3",
        None,
        Some("ispvm".into()),
        (None, secret("short")),
        (None, None),
    )
    .expect_err("short password");
    assert!(short.to_string().contains("8 characters"), "{short}");
    let bad = auth_from(
        "v3",
        None,
        Some("ispvm".into()),
        (Some("sha3".into()), secret("auth-pass-1")),
        (None, None),
    )
    .expect_err("unknown protocol");
    assert!(bad.to_string().contains("sha3"), "{bad}");
    assert!(auth_from("v1", None, None, (None, None), (None, None)).is_err());
}
