//! Redundancy groups: create, members, the graph check on every change (k cannot exceed the
//! members), the blast radius honouring a group, roles and tenant isolation.

use sqlx::PgPool;

use crate::devices::{create_device, link};
use crate::sites::create_site;
use crate::{count, error_of, json_of, spawn_app};

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn groups_change_the_blast_radius_and_keep_the_graph_valid(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin"), ("vera", "viewer")])
        .await;
    app.seed_tenant("other", &[("oscar", "admin")]).await;
    let c = app.signed_in("root").await;
    let site = create_site(&app, &c, "Linz", "lnz1").await;
    let a = create_device(&app, &c, "core-a", site, "core", "10.0.0.1").await;
    let b = create_device(&app, &c, "core-b", site, "core", "10.0.0.2").await;
    let pop = create_device(&app, &c, "pop", site, "aggregation", "10.0.0.3").await;
    assert_eq!(link(&app, &c, a, pop, true).await, 200);
    assert_eq!(link(&app, &c, b, pop, true).await, 200);
    let links: Vec<i64> = sqlx::query_scalar("select id from link order by id")
        .fetch_all(&app.pool)
        .await
        .expect("links");

    // Two ungrouped uplinks: losing core-a takes nothing down.
    let down = |v: serde_json::Value| v["devices_down"].as_array().map_or(0, Vec::len);
    let impact = json_of(&app, &c, "get_device_impact", &[("id", &a.to_string())]).await;
    assert_eq!(down(impact), 0);

    let form = |k: &'static str| {
        vec![
            ("form[name]", "pop uplinks"),
            ("form[rule]", "all"),
            ("form[k]", k),
            ("form[description]", ""),
        ]
    };
    let (status, body) = error_of(app.call(&c, "create_group", &form("2")).await).await;
    assert_eq!(
        (status, body["Invalid"]["field"].as_str()),
        (422, Some("k"))
    );
    assert_eq!(app.call(&c, "create_group", &form("")).await.status(), 200);
    let group: i64 = sqlx::query_scalar("select id from redundancy_group")
        .fetch_one(&app.pool)
        .await
        .expect("group");
    let impact = json_of(&app, &c, "get_device_impact", &[("id", &a.to_string())]).await;
    assert_eq!(
        down(impact),
        0,
        "an empty group is not part of the graph yet"
    );

    for l in &links {
        let member = format!("link:{l}");
        let res = app
            .call(
                &c,
                "add_group_member",
                &[("group_id", &group.to_string()), ("member", &member)],
            )
            .await;
        assert_eq!(res.status(), 200);
    }
    // Both uplinks in an "all" group: the pop needs both, so core-a takes it down.
    let impact = json_of(&app, &c, "get_device_impact", &[("id", &a.to_string())]).await;
    assert_eq!(down(impact), 1);
    let listed = json_of(&app, &c, "list_groups", &[]).await;
    assert_eq!(listed[0]["members"].as_array().map(Vec::len), Some(2));
    assert!(listed[0]["members"][0][1]
        .as_str()
        .is_some_and(|l| l.starts_with("link core-a")));

    // The same member twice, a device of another tenant, junk: refused, nothing written.
    let members = count(&app.pool, "redundancy_member").await;
    let other_site = {
        let o = app.signed_in("oscar").await;
        let s = create_site(&app, &o, "Elsewhere", "els1").await;
        create_device(&app, &o, "theirs", s, "core", "10.9.0.1").await
    };
    for member in [
        format!("link:{}", links[0]),
        format!("device:{other_site}"),
        "router:1".into(),
    ] {
        let (status, body) = error_of(
            app.call(
                &c,
                "add_group_member",
                &[("group_id", &group.to_string()), ("member", &member)],
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, body["Invalid"]["field"].as_str()),
            (422, Some("member")),
            "{member}"
        );
    }
    assert_eq!(count(&app.pool, "redundancy_member").await, members);

    // A k-of-n group whose k would exceed its members after a removal is refused by the graph.
    let kform = vec![
        ("form[name]", "two of two"),
        ("form[rule]", "k_of_n"),
        ("form[k]", "2"),
        ("form[description]", ""),
    ];
    assert_eq!(app.call(&c, "create_group", &kform).await.status(), 200);
    let k_group: i64 = sqlx::query_scalar("select id from redundancy_group where k = 2")
        .fetch_one(&app.pool)
        .await
        .expect("group");
    let first = format!("link:{}", links[0]);
    let (status, body) = error_of(
        app.call(
            &c,
            "add_group_member",
            &[("group_id", &k_group.to_string()), ("member", &first)],
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "1 member cannot satisfy k = 2: {body}");
    assert!(
        body["Invalid"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("two of two")),
        "{body}"
    );

    // Roles and tenants.
    let vera = app.signed_in("vera").await;
    assert_eq!(
        json_of(&app, &vera, "list_groups", &[])
            .await
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let (status, _) = error_of(
        app.call(&vera, "delete_group", &[("id", &group.to_string())])
            .await,
    )
    .await;
    assert_eq!(status, 403);
    let oscar = app.signed_in("oscar").await;
    assert_eq!(
        json_of(&app, &oscar, "list_groups", &[]).await,
        serde_json::json!([])
    );
    for (endpoint, args) in [
        ("delete_group", vec![("id", group.to_string())]),
        (
            "add_group_member",
            vec![
                ("group_id", group.to_string()),
                ("member", format!("device:{other_site}")),
            ],
        ),
        (
            "remove_group_member",
            vec![("group_id", group.to_string()), ("member_id", "1".into())],
        ),
    ] {
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, _) = error_of(app.call(&oscar, endpoint, &args).await).await;
        assert_eq!(status, 404, "{endpoint} of another tenant's group");
    }

    let member_id: i64 = sqlx::query_scalar("select min(id) from redundancy_member")
        .fetch_one(&app.pool)
        .await
        .expect("member");
    let res = app
        .call(
            &c,
            "remove_group_member",
            &[
                ("group_id", &group.to_string()),
                ("member_id", &member_id.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.call(&c, "delete_group", &[("id", &group.to_string())])
            .await
            .status(),
        200
    );
    let audited: Vec<String> = sqlx::query_scalar(
        "select action from audit_event where action like 'group.%' order by id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("audit");
    assert_eq!(
        audited,
        [
            "group.created",
            "group.member_added",
            "group.member_added",
            "group.created",
            "group.member_removed",
            "group.deleted"
        ]
    );
}
