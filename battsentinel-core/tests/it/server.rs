//! REST server tests: the router in-process (`app().oneshot`) and a real server over HTTP. Every test runs on
//! a fresh SQLite file, or on a fresh PostgreSQL database when `TEST_DATABASE_URL` is set
//! (`scripts/postgres-test.sh`).
#![cfg(feature = "server")]

use crate::common::server as support;

use axum::http::StatusCode;
use serde_json::{json, Value};
use support::TestApp;

fn samples(t0: f64, n: usize) -> Value {
    let s: Vec<Value> = (0..n)
        .map(|i| {
            let t = t0 + i as f64;
            json!({"time_s": t, "voltage_v": 3.0 + 0.001 * i as f64, "current_a": 1.5, "temperature_c": 25.0,
                   "cycle_index": 1 + i / 100})
        })
        .collect();
    json!({ "samples": s, "source_name": "test" })
}

#[tokio::test]
async fn health_reports_database_and_request_id() {
    let t = TestApp::new().await;
    let req = axum::http::Request::get("/api/health").body(axum::body::Body::empty()).unwrap();
    let (s, headers, v) = t.send(req).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["status"], "ok");
    assert_eq!(v["database"], "ok");
    assert_eq!(headers.get("x-request-id").map(|h| h.len()), Some(36), "uuid request id");
    let (s, v) = t.call("GET", "/api/nope", None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["code"], "not_found");
}

#[tokio::test]
async fn register_login_me_logout_and_revocation() {
    let t = TestApp::new().await;
    let token = t.user("alice").await;
    let (s, v) = t.call("GET", "/api/auth/me", Some(&token), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["username"], "alice");
    assert_eq!(v["role"], "user");
    assert!(v.get("password_hash").is_none());
    let (s, _) = t.call("POST", "/api/auth/logout", Some(&token), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    for (m, u) in [("GET", "/api/auth/me"), ("GET", "/api/batteries"), ("POST", "/api/auth/logout")] {
        let (s, v) = t.call(m, u, Some(&token), None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{m} {u}");
        assert_eq!(v["code"], "unauthorized");
    }
    let (s, _) = t.call("GET", "/api/auth/me", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = t.call("GET", "/api/auth/me", Some("0000"), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // A new login gives a new, working token.
    let creds = json!({"username": "alice", "password": "correct horse battery"});
    let (s, v) = t.call("POST", "/api/auth/login", None, Some(creds)).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = t.call("GET", "/api/auth/me", v["token"].as_str(), None).await;
    assert_eq!(s, StatusCode::OK);
    // Passwords are stored as argon2id hashes.
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&t.url).await.unwrap();
    let row = sqlx::query("SELECT password_hash FROM users").fetch_one(&mut conn).await.unwrap();
    let h: String = sqlx::Row::try_get(&row, "password_hash").unwrap();
    assert!(h.starts_with("$argon2id$"), "{h}");
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let t = TestApp::with(|c| c.token_ttl_s = 1).await;
    let token = t.user("bob").await;
    assert_eq!(t.call("GET", "/api/auth/me", Some(&token), None).await.0, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(t.call("GET", "/api/auth/me", Some(&token), None).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn registration_validation() {
    let t = TestApp::new().await;
    let ok = json!({"username": "carol", "password": "long enough pw"});
    assert_eq!(t.call("POST", "/api/auth/register", None, Some(ok.clone())).await.0, StatusCode::CREATED);
    let (s, v) = t.call("POST", "/api/auth/register", None, Some(ok)).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("username_taken")));
    let cases = [
        (json!({"username": "x", "password": "long enough pw"}), "invalid_field"),
        (json!({"username": "bad name", "password": "long enough pw"}), "invalid_field"),
        (json!({"username": "dave", "password": "short"}), "invalid_field"),
        (json!({"username": "dave", "password": 12345678}), "invalid_field"),
        (json!({"username": "dave", "password": "long enough pw", "admin": true}), "invalid_field"),
        (json!({"username": "dave", "password": "long enough pw", "email": "no-at-sign"}), "invalid_field"),
    ];
    for (body, code) in cases {
        let (s, v) = t.call("POST", "/api/auth/register", None, Some(body.clone())).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(v["code"], code);
    }
    let (s, v) =
        t.raw("POST", "/api/auth/register", None, "application/json", b"{\"username\": ".to_vec()).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_json")));
    let (s, v) = t.raw("POST", "/api/auth/register", None, "text/plain", b"hello".to_vec()).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_media_type")));
    assert_eq!(t.count("users").await, 1, "nothing written by rejected requests");
}

#[tokio::test]
async fn login_is_rate_limited_per_user_name_in_the_database() {
    let t = TestApp::with(|c| {
        c.login_max_failures = 3;
        c.login_window_s = 60;
    })
    .await;
    t.user("erin").await;
    let wrong = json!({"username": "erin", "password": "not the password"});
    for _ in 0..3 {
        let (s, v) = t.call("POST", "/api/auth/login", None, Some(wrong.clone())).await;
        assert_eq!((s, v["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_credentials")));
    }
    let right = json!({"username": "erin", "password": "correct horse battery"});
    let req = axum::http::Request::post("/api/auth/login")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(right.to_string()))
        .unwrap();
    let (s, headers, v) = t.send(req).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")));
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // A second instance on the same database sees the same counter.
    let other = TestApp::on(&t.url, |c| c.login_max_failures = 3).await;
    assert_eq!(
        other.call("POST", "/api/auth/login", None, Some(right)).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Unknown users fail the same way as wrong passwords.
    let ghost = json!({"username": "ghost", "password": "whatever123"});
    let (s, v) = t.call("POST", "/api/auth/login", None, Some(ghost)).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_credentials")));
}

#[tokio::test]
async fn batteries_crud_and_pagination() {
    let t = TestApp::new().await;
    let tok = t.user("frank").await;
    let body =
        json!({"name": " Pack A ", "chemistry": "NMC", "nominal_capacity_ah": 2.5, "nominal_voltage_v": 3.6});
    let (s, v) = t.call("POST", "/api/batteries", Some(&tok), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["name"], "Pack A");
    assert_eq!(v["nominal_capacity_ah"], 2.5);
    let id = v["id"].as_i64().unwrap();
    let (s, v) = t.call("GET", &format!("/api/batteries/{id}"), Some(&tok), None).await;
    assert_eq!((s, v["chemistry"].as_str()), (StatusCode::OK, Some("NMC")));
    let (s, v) = t
        .call(
            "PUT",
            &format!("/api/batteries/{id}"),
            Some(&tok),
            Some(json!({"name": "Pack B", "chemistry": "LFP"})),
        )
        .await;
    assert_eq!(
        (s, v["name"].as_str(), v["chemistry"].as_str()),
        (StatusCode::OK, Some("Pack B"), Some("LFP"))
    );
    assert_eq!(v["nominal_capacity_ah"], Value::Null, "PUT replaces every field");
    for bad in [
        json!({"name": ""}),
        json!({"name": "x", "nominal_capacity_ah": -1.0}),
        json!({"name": "a\u{0}b"}),
        json!({"name": 5}),
        json!({}),
    ] {
        let (s, _) = t.call("POST", "/api/batteries", Some(&tok), Some(bad.clone())).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    for i in 0..24 {
        t.battery(&tok, &format!("cell {i}")).await;
    }
    let (s, v) = t.call("GET", "/api/batteries?page=2&per_page=10", Some(&tok), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["total"], 25);
    assert_eq!(v["items"].as_array().unwrap().len(), 10);
    assert_eq!(v["items"][0]["name"], "cell 9");
    let (_, v) = t.call("GET", "/api/batteries?page=3&per_page=10", Some(&tok), None).await;
    assert_eq!(v["items"].as_array().unwrap().len(), 5);
    assert_eq!(
        t.call("GET", "/api/batteries?per_page=0", Some(&tok), None).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(t.call("GET", "/api/batteries?page=abc", Some(&tok), None).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(t.call("GET", "/api/batteries/abc", Some(&tok), None).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        t.call("DELETE", &format!("/api/batteries/{id}"), Some(&tok), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        t.call("GET", &format!("/api/batteries/{id}"), Some(&tok), None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.call("DELETE", &format!("/api/batteries/{id}"), Some(&tok), None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn no_user_can_touch_another_users_resources() {
    let t = TestApp::new().await;
    let a = t.user("owner").await;
    let b = t.user("intruder").await;
    let bat = t.battery(&a, "mine").await;
    let (s, _) =
        t.call("POST", &format!("/api/batteries/{bat}/data"), Some(&a), Some(samples(0.0, 10))).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, alert) = t
        .call(
            "POST",
            "/api/alerts",
            Some(&a),
            Some(json!({"battery_id": bat, "severity": "warning", "title": "hot"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let alert_id = alert["id"].as_i64().unwrap();
    let before = (t.count("samples").await, t.count("uploads").await, t.count("alerts").await);

    let attempts: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/api/batteries/{bat}"), None),
        ("PUT", format!("/api/batteries/{bat}"), Some(json!({"name": "stolen"}))),
        ("DELETE", format!("/api/batteries/{bat}"), None),
        ("GET", format!("/api/batteries/{bat}/data"), None),
        ("POST", format!("/api/batteries/{bat}/data"), Some(samples(100.0, 5))),
        (
            "POST",
            "/api/alerts".to_string(),
            Some(json!({"battery_id": bat, "severity": "info", "title": "x"})),
        ),
        ("PUT", format!("/api/alerts/{alert_id}/read"), None),
    ];
    for (m, u, body) in attempts {
        let (s, v) = t.call(m, &u, Some(&b), body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{m} {u}: {v}");
        assert_eq!(v["code"], "not_found");
    }
    let (_, v) = t.call("GET", "/api/batteries", Some(&b), None).await;
    assert_eq!(v["total"], 0);
    let (_, v) = t.call("GET", &format!("/api/alerts?battery_id={bat}"), Some(&b), None).await;
    assert_eq!(v["total"], 0);
    let (_, v) = t.call("GET", "/api/alerts", Some(&b), None).await;
    assert_eq!(v["total"], 0);
    // The owner's things are intact.
    assert_eq!(before, (t.count("samples").await, t.count("uploads").await, t.count("alerts").await));
    let (_, v) = t.call("GET", &format!("/api/batteries/{bat}"), Some(&a), None).await;
    assert_eq!(v["name"], "mine");
    let (_, v) = t.call("GET", "/api/alerts?unread=true", Some(&a), None).await;
    assert_eq!(v["total"], 1);
    // Admin endpoints are closed to ordinary users.
    let (s, v) = t.call("GET", "/api/admin/users", Some(&b), None).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
}

#[tokio::test]
async fn upload_appends_detects_duplicates_and_reads_back() {
    let t = TestApp::new().await;
    let tok = t.user("grace").await;
    let bat = t.battery(&tok, "cell").await;
    let url = format!("/api/batteries/{bat}/data");
    let (s, v) = t.call("POST", &url, Some(&tok), Some(samples(0.0, 250))).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!((v["rows_received"].as_u64(), v["rows_inserted"].as_u64()), (Some(250), Some(250)));
    assert_eq!(v["duplicate_rows"], 0);
    assert_eq!(v["quality"]["rows_read"], 250);
    assert_eq!(v["format"], "json");
    // The very same samples again: 409, nothing written.
    let (s, v) = t.call("POST", &url, Some(&tok), Some(samples(0.0, 250))).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("duplicate_upload")));
    assert_eq!((t.count("samples").await, t.count("uploads").await), (250, 1));
    // Overlapping upload appends the new part; earlier data is kept.
    let (s, v) = t.call("POST", &url, Some(&tok), Some(samples(200.0, 100))).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!((v["rows_inserted"].as_u64(), v["duplicate_rows"].as_u64()), (Some(50), Some(50)));
    assert_eq!(t.count("samples").await, 300);

    // Time range + channel selection.
    let (s, v) = t
        .call("GET", &format!("{url}?from_s=10&to_s=14&channels=voltage_v,cycle_index"), Some(&tok), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["time_s"], json!([10.0, 11.0, 12.0, 13.0, 14.0]));
    assert_eq!(v["channels"], json!(["voltage_v", "cycle_index"]));
    assert!((v["series"]["voltage_v"][0].as_f64().unwrap() - 3.010).abs() < 1e-12);
    assert_eq!(v["series"]["cycle_index"][0], 1.0);
    assert!(v["series"].get("current_a").is_none());
    assert_eq!(v["next_after_s"], Value::Null);
    // Keyset pagination walks every sample exactly once.
    let mut seen = Vec::new();
    let mut after: Option<f64> = None;
    loop {
        let q = match after {
            Some(a) => format!("{url}?limit=70&channels=current_a&after_s={a}"),
            None => format!("{url}?limit=70&channels=current_a"),
        };
        let (_, v) = t.call("GET", &q, Some(&tok), None).await;
        seen.extend(v["time_s"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()));
        match v["next_after_s"].as_f64() {
            Some(a) => after = Some(a),
            None => break,
        }
    }
    assert_eq!(seen, (0..300).map(f64::from).collect::<Vec<_>>());
    // Downsampling: 300 samples into 3 buckets of 100 → bucket means.
    let (_, v) = t
        .call("GET", &format!("{url}?max_points=3&from_s=0&to_s=300&channels=voltage_v"), Some(&tok), None)
        .await;
    assert_eq!(v["downsampled"], true);
    assert_eq!(v["time_s"], json!([49.5, 149.5, 249.5]));
    let means: Vec<f64> =
        v["series"]["voltage_v"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    // voltage = 3 + 0.001·i within each upload (the second upload restarts i at t = 200).
    let expect0 = 3.0 + 0.001 * 49.5;
    assert!((means[0] - expect0).abs() < 1e-12, "{means:?}");
    let (_, v) = t.call("GET", &format!("{url}?max_points=1000"), Some(&tok), None).await;
    assert_eq!(v["time_s"].as_array().unwrap().len(), 300, "fewer samples than points: one per bucket");
    for bad in [
        "channels=nope",
        "limit=0",
        "limit=10001",
        "max_points=0",
        "from_s=5&to_s=1",
        "max_points=5&after_s=3",
    ] {
        let (s, _) = t.call("GET", &format!("{url}?{bad}"), Some(&tok), None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(t.call("GET", &format!("{url}?limit=x"), Some(&tok), None).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(t.call("GET", &format!("{url}?bogus=1"), Some(&tok), None).await.0, StatusCode::BAD_REQUEST);
    // Deleting the battery deletes its data.
    assert_eq!(
        t.call("DELETE", &format!("/api/batteries/{bat}"), Some(&tok), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!((t.count("samples").await, t.count("uploads").await), (0, 0));
}

#[tokio::test]
async fn bad_uploads_are_rejected_with_nothing_written() {
    let t = TestApp::with(|c| c.max_upload_bytes = 64 * 1024).await;
    let tok = t.user("heidi").await;
    let bat = t.battery(&tok, "cell").await;
    let url = format!("/api/batteries/{bat}/data");
    let cases: Vec<(&str, Vec<u8>, StatusCode)> = vec![
        ("application/json", b"{\"samples\": [{\"time_s\": 1.0,".to_vec(), StatusCode::BAD_REQUEST),
        (
            "application/json",
            br#"{"samples": [{"time_s": "soon"}]}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "application/json",
            br#"{"samples": [{"time_s": 1, "voltage_v": true}]}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "application/json",
            br#"{"samples": [{"time_s": 1, "cycle_index": -3}]}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "application/json",
            br#"{"samples": [{"time_s": 1, "volts": 3.0}]}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("application/json", br#"{"samples": []}"#.to_vec(), StatusCode::UNPROCESSABLE_ENTITY),
        ("application/json", br#"[1, 2, 3]"#.to_vec(), StatusCode::UNPROCESSABLE_ENTITY),
        ("application/json", samples(0.0, 2000).to_string().into_bytes(), StatusCode::PAYLOAD_TOO_LARGE),
        ("application/octet-stream", vec![0u8; 100], StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("text/csv", b"time,voltage\n0,3.7\n".to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE),
    ];
    for (ctype, body, want) in cases {
        let preview = String::from_utf8_lossy(&body[..body.len().min(60)]).to_string();
        let (s, v) = t.raw("POST", &url, Some(&tok), ctype, body).await;
        assert_eq!(s, want, "{ctype} {preview}: {v}");
        assert!(v["code"].is_string() && v["message"].is_string(), "{v}");
    }
    assert_eq!((t.count("samples").await, t.count("uploads").await), (0, 0));
    // A body over the general JSON limit is refused on other routes too.
    let t2 = TestApp::with(|c| c.max_json_bytes = 1024).await;
    let big = json!({"username": "x".repeat(5000), "password": "long enough pw"});
    let (s, v) = t2.call("POST", "/api/auth/register", None, Some(big)).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")));
    assert_eq!(t2.count("users").await, 0);
}

#[tokio::test]
async fn alerts_filters_and_read_state() {
    let t = TestApp::new().await;
    let tok = t.user("ivan").await;
    let b1 = t.battery(&tok, "one").await;
    let b2 = t.battery(&tok, "two").await;
    for (b, sev) in [(b1, "info"), (b1, "critical"), (b2, "critical"), (b2, "warning")] {
        let body =
            json!({"battery_id": b, "severity": sev, "title": format!("{sev} on {b}"), "message": "m"});
        let (s, v) = t.call("POST", "/api/alerts", Some(&tok), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["source"], "manual");
        assert_eq!(v["read_at"], Value::Null);
    }
    let (_, v) = t.call("GET", "/api/alerts?severity=critical", Some(&tok), None).await;
    assert_eq!(v["total"], 2);
    let (_, v) = t.call("GET", &format!("/api/alerts?battery_id={b1}"), Some(&tok), None).await;
    assert_eq!(v["total"], 2);
    assert_eq!(v["items"][0]["severity"], "critical", "newest first");
    let first = v["items"][0]["id"].as_i64().unwrap();
    let (s, v) = t.call("PUT", &format!("/api/alerts/{first}/read"), Some(&tok), None).await;
    assert_eq!(s, StatusCode::OK);
    let read_at = v["read_at"].clone();
    assert!(read_at.is_string());
    let (_, v) = t.call("PUT", &format!("/api/alerts/{first}/read"), Some(&tok), None).await;
    assert_eq!(v["read_at"], read_at, "marking read twice keeps the first time");
    let (_, v) = t.call("GET", "/api/alerts?unread=true", Some(&tok), None).await;
    assert_eq!(v["total"], 3);
    let (_, v) = t
        .call("GET", &format!("/api/alerts?unread=true&battery_id={b1}&severity=info"), Some(&tok), None)
        .await;
    assert_eq!(v["total"], 1, "the info alert of battery one is still unread");
    for bad in [
        json!({"battery_id": b1, "severity": "doom", "title": "x"}),
        json!({"battery_id": b1, "severity": "info", "title": ""}),
    ] {
        assert_eq!(
            t.call("POST", "/api/alerts", Some(&tok), Some(bad)).await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    assert_eq!(t.call("GET", "/api/alerts?severity=doom", Some(&tok), None).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(t.call("PUT", "/api/alerts/999999/read", Some(&tok), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(t.count("alerts").await, 4);
}

#[tokio::test]
async fn admin_role_from_configuration() {
    let t = TestApp::with(|c| c.admin_usernames = vec!["root".into()]).await;
    let root = t.user("root").await;
    let joe = t.user("joe").await;
    let (s, v) = t.call("GET", "/api/admin/users", Some(&root), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["total"], 2);
    assert_eq!(v["items"][0]["role"], "admin");
    let joe_id = v["items"][1]["id"].as_i64().unwrap();
    assert_eq!(t.call("GET", "/api/admin/users", Some(&joe), None).await.0, StatusCode::FORBIDDEN);
    let (s, v) = t
        .call("PUT", &format!("/api/admin/users/{joe_id}/role"), Some(&root), Some(json!({"role": "admin"})))
        .await;
    assert_eq!((s, v["role"].as_str()), (StatusCode::OK, Some("admin")));
    assert_eq!(t.call("GET", "/api/admin/users", Some(&joe), None).await.0, StatusCode::OK);
    let (s, _) =
        t.call("PUT", "/api/admin/users/424242/role", Some(&root), Some(json!({"role": "user"}))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn openapi_document_matches_the_routes() {
    let t = TestApp::new().await;
    let (s, v) = t.call("GET", "/api/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented: Vec<String> = Vec::new();
    for (path, item) in v["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    documented.sort();
    let mut expected = vec![
        "GET /api/health",
        "POST /api/auth/register",
        "POST /api/auth/login",
        "POST /api/auth/logout",
        "GET /api/auth/me",
        "GET /api/batteries",
        "POST /api/batteries",
        "GET /api/batteries/{id}",
        "PUT /api/batteries/{id}",
        "DELETE /api/batteries/{id}",
        "GET /api/batteries/{id}/data",
        "POST /api/batteries/{id}/data",
        "GET /api/alerts",
        "POST /api/alerts",
        "PUT /api/alerts/{id}/read",
        "GET /api/admin/users",
        "PUT /api/admin/users/{id}/role",
        "GET /api/batteries/{id}/rules",
        "POST /api/batteries/{id}/rules",
        "PUT /api/batteries/{id}/rules/{rule_id}",
        "DELETE /api/batteries/{id}/rules/{rule_id}",
        "POST /api/digital-twin/{battery_id}/simulate",
        "GET /api/digital-twin/{battery_id}/status",
        "POST /api/ai/analyze/{battery_id}",
        "GET /api/ai/explain/{analysis_id}",
    ];
    expected.sort();
    assert_eq!(documented, expected);
    // Every documented route exists: without a token, protected ones answer 401 (not 404/405).
    for route in &expected {
        let (m, p) = route.split_once(' ').unwrap();
        let p = p
            .replace("{id}", "1")
            .replace("{battery_id}", "1")
            .replace("{rule_id}", "r")
            .replace("{analysis_id}", "1");
        let (s, _) = t.call(m, &p, None, None).await;
        assert_ne!(s, StatusCode::NOT_FOUND, "{route}");
        assert_ne!(s, StatusCode::METHOD_NOT_ALLOWED, "{route}");
    }
}

#[tokio::test]
async fn two_instances_share_sessions_and_revocation() {
    let a = TestApp::new().await;
    let b = TestApp::on(&a.url, |_| {}).await;
    let tok = a.user("judy").await;
    let bat = b.battery(&tok, "via b").await;
    let (s, v) = a.call("GET", &format!("/api/batteries/{bat}"), Some(&tok), None).await;
    assert_eq!((s, v["name"].as_str()), (StatusCode::OK, Some("via b")));
    assert_eq!(b.call("POST", "/api/auth/logout", Some(&tok), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(a.call("GET", "/api/auth/me", Some(&tok), None).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn real_server_over_http_with_graceful_shutdown() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let t = TestApp::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(battsentinel_core::server::serve_on(listener, t.state.clone(), async {
        let _ = stopped.await;
    }));
    let request = |req: String| async move {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    };
    let res = request("GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into()).await;
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    assert!(res.contains("\"database\":\"ok\""), "{res}");
    let body = r#"{"username":"kate","password":"long enough pw"}"#;
    let res = request(format!(
        "POST /api/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ))
    .await;
    assert!(res.starts_with("HTTP/1.1 201"), "{res}");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "listener closed after shutdown");
}

use crate::common as io_data;

/// JSON samples with explicit voltages (1 s apart from `t0`).
fn voltage_samples(t0: f64, volts: &[f64]) -> Value {
    let s: Vec<Value> = volts
        .iter()
        .enumerate()
        .map(|(i, v)| json!({"time_s": t0 + i as f64, "voltage_v": v, "current_a": 1.0, "temperature_c": 25.0}))
        .collect();
    json!({ "samples": s })
}

/// Values survive the database bit for bit (they travel as shortest round-trip JSON text inside the insert
/// statements): awkward decimals, subnormals, extreme exponents, exact integers.
#[tokio::test]
async fn stored_values_read_back_bit_for_bit() {
    let t = TestApp::new().await;
    let tok = t.user("bits").await;
    let bat = t.battery(&tok, "bits").await;
    let url = format!("/api/batteries/{bat}/data");
    let awkward: [f64; 12] = [
        0.1 + 0.2,
        1.0 / 3.0,
        -2.0 / 7.0,
        5e-324,
        2.2250738585072014e-308,
        1.7976931348623157e308,
        -1e-300,
        123456789.12345679,
        4.35,
        9007199254740993.0,
        3.0,
        -0.5,
    ];
    let samples: Vec<Value> = awkward
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            json!({"time_s": 1.0 / 3.0 + i as f64 * 0.1, "voltage_v": x, "current_a": -x,
                   "channels": {"probe": x * 0.5}})
        })
        .collect();
    let (s, v) = t.call("POST", &url, Some(&tok), Some(json!({ "samples": samples }))).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["rows_inserted"].as_u64(), Some(awkward.len() as u64));
    let (s, r) = t.call("GET", &format!("{url}?channels=voltage_v,current_a,probe"), Some(&tok), None).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    for (i, &x) in awkward.iter().enumerate() {
        let bits = |v: &Value| v.as_f64().map(f64::to_bits);
        assert_eq!(bits(&r["time_s"][i]), Some((1.0 / 3.0 + i as f64 * 0.1).to_bits()), "time {i}");
        assert_eq!(bits(&r["series"]["voltage_v"][i]), Some(x.to_bits()), "voltage {i}: {x:e}");
        assert_eq!(bits(&r["series"]["current_a"][i]), Some((-x).to_bits()), "current {i}: {x:e}");
        assert_eq!(bits(&r["series"]["probe"][i]), Some((x * 0.5).to_bits()), "probe {i}: {x:e}");
    }
}

#[tokio::test]
async fn multipart_upload_of_a_cycler_file_stores_every_channel() {
    let t = TestApp::new().await;
    let tok = t.user("mona").await;
    let bat = t.battery(&tok, "calce").await;
    let url = format!("/api/batteries/{bat}/data");
    let path = io_data::shared_data("cyclers/calce_CX2-33_timeseries.csv");
    let bytes = std::fs::read(&path).unwrap();
    // What the reader gives on its own is what the server must store.
    let opts = battsentinel_core::io::ReadOptions {
        file_name: Some("calce_CX2-33_timeseries.csv".into()),
        ..Default::default()
    };
    let log = battsentinel_core::io::read_bytes(&bytes, &opts).unwrap();
    assert_eq!(log.temperatures_c.len(), 2, "two temperature sensors in the fixture");
    let (s, v) =
        t.multipart(&url, Some(&tok), &[("file", Some("calce_CX2-33_timeseries.csv"), &bytes)]).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["format"], log.meta.format.as_str());
    assert_eq!(v["source_name"], "calce_CX2-33_timeseries.csv");
    assert_eq!(v["rows_received"].as_u64(), Some(log.len() as u64));
    assert_eq!(v["rows_inserted"].as_u64(), Some(log.len() as u64));
    assert_eq!(v["quality"]["rows_read"].as_u64(), Some(log.quality.rows_read as u64));
    assert_eq!(v["quality"]["rows_kept"].as_u64(), Some(log.quality.rows_kept as u64));
    assert_eq!(v["quality"]["issues"].as_array().unwrap().len(), log.quality.issues.len());
    let extras: Vec<String> =
        v["extra_channels"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect();
    let second_t = format!("temperature_c:{}", log.temperatures_c[1].name);
    assert!(extras.contains(&second_t), "{extras:?}");
    assert!(extras.contains(&"charge_energy_wh".to_string()), "{extras:?}");
    assert!(extras.contains(&"discharge_energy_wh".to_string()), "{extras:?}");
    // Read back the second temperature sensor and the discharge energy, aligned with time.
    let offset = v["time_offset_s"].as_f64().unwrap();
    let (s, r) = t
        .call("GET", &format!("{url}?channels=voltage_v,{second_t},discharge_energy_wh"), Some(&tok), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let times: Vec<f64> = r["time_s"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    assert_eq!(times.len(), log.len());
    for (i, tt) in times.iter().enumerate() {
        assert!((tt - (log.time_s[i] + offset)).abs() < 1e-6);
        let want_t = log.temperatures_c[1].values[i];
        let got_t = r["series"][&second_t][i].as_f64();
        if want_t.is_finite() {
            assert_eq!(got_t, Some(want_t), "row {i}");
        } else {
            assert_eq!(got_t, None, "row {i}");
        }
        let want_e = log.discharge_energy_wh.as_ref().unwrap()[i];
        assert_eq!(r["series"]["discharge_energy_wh"][i].as_f64(), Some(want_e), "row {i}");
    }
    // Default channel list: the fixed channels then the stored ones.
    let (_, r) = t.call("GET", &format!("{url}?limit=1"), Some(&tok), None).await;
    let names: Vec<&str> = r["channels"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
    assert_eq!(names.len(), 7 + extras.len(), "{names:?}");
    // Downsampled extra channel: one bucket → the mean of the present values.
    let (_, r) =
        t.call("GET", &format!("{url}?max_points=1&channels=discharge_energy_wh"), Some(&tok), None).await;
    let e = log.discharge_energy_wh.as_ref().unwrap();
    let mean = e.iter().sum::<f64>() / e.len() as f64;
    assert!((r["series"]["discharge_energy_wh"][0].as_f64().unwrap() - mean).abs() < 1e-9, "{r}");
    // The same file again is a duplicate, whatever its name.
    let (s, v) = t.multipart(&url, Some(&tok), &[("file", Some("again.csv"), &bytes)]).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("duplicate_upload")));
    let before = (t.count("samples").await, t.count("sample_channels").await, t.count("uploads").await);
    assert_eq!(before.2, 1);
    assert!(before.1 > 0);
    // Unreadable files, bad multipart and missing parts: 4xx, nothing written.
    type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);
    let cases: Vec<(Vec<Part>, StatusCode)> = vec![
        (
            vec![("file", Some("noise.bin"), b"\x00\x01\x02\xff\xfe garbage \x00")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (vec![("file", Some("empty.csv"), b"")], StatusCode::UNPROCESSABLE_ENTITY),
        (vec![("file", Some("header_only.csv"), b"time_s,voltage_v\n")], StatusCode::UNPROCESSABLE_ENTITY),
        (vec![("source_name", None, b"no file")], StatusCode::BAD_REQUEST),
        (vec![("other", None, b"x")], StatusCode::BAD_REQUEST),
        (
            vec![
                ("file", Some("a.csv"), b"time_s,voltage_v\n0,3.7\n"),
                ("file", Some("b.csv"), b"time_s,voltage_v\n0,3.7\n"),
            ],
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (parts, want) in cases {
        let (s, v) = t.multipart(&url, Some(&tok), &parts).await;
        assert_eq!(s, want, "{v}");
        assert!(v["code"].is_string() && v["message"].is_string(), "{v}");
    }
    let (s, v) =
        t.raw("POST", &url, Some(&tok), "multipart/form-data; boundary=zz", b"--zz\r\nbroken".to_vec()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(
        before,
        (t.count("samples").await, t.count("sample_channels").await, t.count("uploads").await)
    );
}

#[tokio::test]
async fn uploads_over_the_limit_answer_a_typed_413() {
    let t = TestApp::with(|c| c.max_upload_bytes = 4096).await;
    let tok = t.user("nina").await;
    let bat = t.battery(&tok, "cell").await;
    let url = format!("/api/batteries/{bat}/data");
    let big = vec![b'1'; 10_000];
    let (s, v) = t.multipart(&url, Some(&tok), &[("file", Some("big.csv"), &big)]).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("4096"), "{v}");
    let (s, v) = t.call("POST", &url, Some(&tok), Some(samples(0.0, 200))).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("4096"), "{v}");
    assert_eq!((t.count("samples").await, t.count("uploads").await), (0, 0));
}

#[tokio::test]
async fn rule_engine_raises_alerts_on_data_arrival_without_storms() {
    let t = TestApp::new().await;
    let tok = t.user("oscar").await;
    let bat = t.battery(&tok, "nmc cell").await;
    let url = format!("/api/batteries/{bat}/data");
    // 10 s at 4.30 V (over the default 4.25 V for more than for_s = 2 s), then back to 4.0 V.
    let mut volts = vec![4.0; 5];
    volts.extend([4.30; 10]);
    volts.extend([4.0; 5]);
    let (s, v) = t.call("POST", &url, Some(&tok), Some(voltage_samples(1000.0, &volts))).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!((v["alerts"]["raised"].as_u64(), v["alerts"]["cleared"].as_u64()), (Some(1), Some(1)), "{v}");
    let (_, a) = t.call("GET", "/api/alerts?source=rule", Some(&tok), None).await;
    assert_eq!(a["total"], 1, "{a}");
    let alert = &a["items"][0];
    assert_eq!(alert["rule_id"], "cell_over_voltage");
    assert_eq!(alert["severity"], "critical");
    assert_eq!(alert["category"], "cell");
    assert_eq!(alert["source"], "rule");
    assert_eq!(alert["onset_t_s"], 1005.0);
    assert_eq!(alert["cleared_t_s"], 1015.0, "clears at the first sample at or below 4.20 V");
    assert_eq!(alert["upload_id"], v["upload_id"]);
    // A storm: the voltage flaps over the limit 20 times within a minute → one alert, episodes counted.
    let flap: Vec<f64> = (0..200).map(|i| if (i / 5) % 2 == 0 { 4.30 } else { 4.10 }).collect();
    let (s, v) = t.call("POST", &url, Some(&tok), Some(voltage_samples(5000.0, &flap))).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, a) = t.call("GET", "/api/alerts?source=rule", Some(&tok), None).await;
    let raised = v["alerts"]["raised"].as_u64().unwrap();
    assert!(raised <= 4, "cooldown of 60 s over 200 s allows at most 4 alerts, got {raised}: {v}");
    assert_eq!(a["total"].as_u64(), Some(1 + raised));
    let total_occurrences: i64 =
        a["items"].as_array().unwrap().iter().map(|x| x["occurrences"].as_i64().unwrap()).sum();
    assert!(total_occurrences > 1 + raised as i64, "merged episodes are counted: {a}");
    // An alert left open by one upload absorbs the next upload's episode instead of raising again.
    let (_, v) = t.call("POST", &url, Some(&tok), Some(voltage_samples(9000.0, &[4.3; 10]))).await;
    assert_eq!(v["alerts"]["raised"], 1, "{v}");
    let open_id = v["alerts"]["alert_ids"][0].clone();
    let (_, v) = t.call("POST", &url, Some(&tok), Some(voltage_samples(9100.0, &[4.3; 10]))).await;
    assert_eq!((v["alerts"]["raised"].as_u64(), v["alerts"]["merged"].as_u64()), (Some(0), Some(1)), "{v}");
    assert_eq!(v["alerts"]["alert_ids"][0], open_id);
    let (_, a) = t
        .call("GET", &format!("/api/alerts?source=rule&battery_id={bat}&per_page=1"), Some(&tok), None)
        .await;
    assert_eq!(a["items"][0]["id"], open_id);
    assert_eq!(a["items"][0]["occurrences"], 2);
    assert_eq!(a["items"][0]["cleared_t_s"], Value::Null);
    // Nothing but rule alerts were created, and manual ones are filtered apart.
    let (_, m) = t.call("GET", "/api/alerts?source=manual", Some(&tok), None).await;
    assert_eq!(m["total"], 0);
}

#[tokio::test]
async fn battery_rules_crud_validation_and_overrides() {
    let t = TestApp::new().await;
    let tok = t.user("petra").await;
    let other = t.user("quinn").await;
    let bat = t.battery(&tok, "cell").await;
    let rules = format!("/api/batteries/{bat}/rules");
    let (s, v) = t.call("GET", &rules, Some(&tok), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["profile"], "nmc");
    assert_eq!(v["rules"], json!([]));
    assert!(v["in_force"].as_array().unwrap().iter().any(|r| r == "cell_over_voltage"));
    // A custom rule with a parameter reference of the defaults.
    let low = json!({"id": "low_voltage_watch", "title": "Low voltage", "severity": "warning", "for_s": 0.0,
                     "when": {"below": {"signal": "voltage_v", "threshold": 3.0}}});
    let (s, v) = t.call("POST", &rules, Some(&tok), Some(low.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        (v["id"].as_str(), v["overrides_default"].as_bool()),
        (Some("low_voltage_watch"), Some(false))
    );
    let (s, v) = t.call("POST", &rules, Some(&tok), Some(low)).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("rule_exists")));
    // Validation errors name the rule and the field.
    let cases = [
        (
            json!({"id": "neg", "severity": "info", "for_s": -1.0, "when": {"above": {"signal": "voltage_v", "threshold": 4.0}}}),
            "rule_invalid",
            "`neg` field `for_s`",
        ),
        (
            json!({"id": "typo", "severity": "info", "when": {"abov": {"signal": "voltage_v", "threshold": 4.0}}}),
            "rule_field",
            "`typo` field `when`",
        ),
        (
            json!({"id": "ref", "severity": "info", "when": {"above": {"signal": "voltage_v", "threshold": "$nope"}}}),
            "rule_unknown_param",
            "`ref` field `when.above.threshold`",
        ),
        (
            json!({"id": "sev", "severity": "doom", "when": {"above": {"signal": "voltage_v", "threshold": 4.0}}}),
            "rule_field",
            "`sev` field `severity`",
        ),
    ];
    for (body, code, needle) in cases {
        let (s, v) = t.call("POST", &rules, Some(&tok), Some(body.clone())).await;
        assert_eq!((s, v["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(code)), "{body}: {v}");
        assert!(v["message"].as_str().unwrap().contains(needle), "{needle} in {v}");
    }
    // Switch the default over-voltage rule off for this battery: no alert on over-voltage data.
    let off = json!({"id": "cell_over_voltage", "severity": "critical", "enabled": false,
                     "when": {"above": {"signal": "voltage_v", "threshold": "$v_over_v"}}});
    let (s, v) = t.call("POST", &rules, Some(&tok), Some(off)).await;
    assert_eq!((s, v["overrides_default"].as_bool()), (StatusCode::CREATED, Some(true)), "{v}");
    let (_, v) = t.call("GET", &rules, Some(&tok), None).await;
    assert!(!v["in_force"].as_array().unwrap().iter().any(|r| r == "cell_over_voltage"));
    let data = format!("/api/batteries/{bat}/data");
    let (s, v) = t.call("POST", &data, Some(&tok), Some(voltage_samples(0.0, &[4.3; 20]))).await;
    assert_eq!((s, v["alerts"]["raised"].as_u64()), (StatusCode::CREATED, Some(0)), "{v}");
    // The custom rule fires.
    let (_, v) = t.call("POST", &data, Some(&tok), Some(voltage_samples(100.0, &[2.9; 3]))).await;
    assert_eq!(v["alerts"]["raised"], 1, "{v}");
    let (_, a) = t.call("GET", "/api/alerts?source=rule", Some(&tok), None).await;
    assert_eq!(
        (a["items"][0]["rule_id"].as_str(), a["items"][0]["title"].as_str()),
        (Some("low_voltage_watch"), Some("Low voltage"))
    );
    // Replace (threshold change), with a mismatching id refused; delete restores the default.
    let url = format!("{rules}/low_voltage_watch");
    let (s, v) = t
        .call(
            "PUT",
            &url,
            Some(&tok),
            Some(
                json!({"severity": "critical", "when": {"below": {"signal": "voltage_v", "threshold": 2.8}}}),
            ),
        )
        .await;
    assert_eq!((s, v["rule"]["severity"].as_str()), (StatusCode::OK, Some("critical")), "{v}");
    let (s, _) = t
        .call("PUT", &url, Some(&tok), Some(json!({"id": "other", "severity": "info", "when": {"below": {"signal": "voltage_v", "threshold": 2.8}}})))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        t.call("DELETE", &format!("{rules}/cell_over_voltage"), Some(&tok), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        t.call("DELETE", &format!("{rules}/cell_over_voltage"), Some(&tok), None).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, v) = t.call("POST", &data, Some(&tok), Some(voltage_samples(1000.0, &[4.3; 20]))).await;
    assert_eq!(v["alerts"]["raised"], 1, "{v}");
    // Nobody else sees or changes them.
    for (m, u, body) in [
        ("GET", rules.clone(), None),
        (
            "POST",
            rules.clone(),
            Some(json!({"id": "x", "severity": "info", "when": {"missing": {"signal": "voltage_v"}}})),
        ),
        ("PUT", url.clone(), Some(json!({"severity": "info", "when": {"missing": {"signal": "voltage_v"}}}))),
        ("DELETE", url.clone(), None),
    ] {
        let (s, v) = t.call(m, &u, Some(&other), body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{m} {u}: {v}");
    }
    assert_eq!(t.count("alert_rules").await, 1);
}

#[tokio::test]
async fn twin_simulation_runs_in_the_background_and_matches_pybamm() {
    use battsentinel_core::twin::{CellParams, Protocol};
    let t = TestApp::new().await;
    let tok = t.user("rita").await;
    let other = t.user("sam").await;
    let bat = t.battery(&tok, "twin").await;
    let sim = format!("/api/digital-twin/{bat}/simulate");
    let status = format!("/api/digital-twin/{bat}/status");
    assert_eq!(t.call("GET", &status, Some(&tok), None).await.0, StatusCode::NOT_FOUND, "no job yet");
    let body = json!({
        "protocol": serde_json::to_value(Protocol::constant_current(0.9999, 100.0, 7200.0)).unwrap(),
        "params": serde_json::to_value(CellParams::ecm_example_const(4e-4, 6e-4, 5e4)).unwrap(),
    });
    let (s, v) = t.call("POST", &sim, Some(&tok), Some(body)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let job = v["job_id"].as_i64().unwrap();
    assert!(matches!(v["status"].as_str(), Some("queued")), "{v}");
    // Poll (from a second instance: the status lives in the database).
    let b = TestApp::on(&t.url, |_| {}).await;
    let mut done = Value::Null;
    for _ in 0..600 {
        let (s, v) = b.call("GET", &status, Some(&tok), None).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        if v["status"] == "done" || v["status"] == "failed" {
            done = v;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["job_id"], job);
    assert_eq!(done["progress"], 1.0);
    let r = &done["result"];
    assert_eq!(r["end_reason"], "voltage_below");
    // PyBaMM's Thevenin model: 1C from SoC 0.9999 reaches 3.2 V at 3 556.96 s (see twin::simulate).
    assert!((r["duration_s"].as_f64().unwrap() - 3556.96).abs() < 0.1, "{}", r["duration_s"]);
    assert!((r["min_voltage_v"].as_f64().unwrap() - 3.2).abs() < 1e-6);
    assert!((r["discharged_ah"].as_f64().unwrap() - 100.0 * 3556.96 / 3600.0).abs() < 0.01);
    let n = r["trace"]["time_s"].as_array().unwrap().len();
    assert!(n <= 1001 && n > 100, "{n}");
    assert_eq!(r["trace"]["voltage_v"].as_array().unwrap().len(), n);
    // Invalid requests: 4xx, no job.
    for (body, code) in [
        (json!({"protocol": {"initial": {"soc": "full"}, "steps": []}}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"protocol": {"dt_s": 1e-6, "initial": {"soc": 0.5}, "steps": [{"kind": "rest", "duration_s": 1e6}]}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"protocol": {"initial": {"soc": 0.5}, "steps": []}, "params": {"capacity_ah": -1}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"protocol": {"initial": {"soc": 0.5}, "steps": []}, "extra": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (s, v) = t.call("POST", &sim, Some(&tok), Some(body.clone())).await;
        assert_eq!(s, code, "{body}: {v}");
    }
    // A simulation error surfaces in the job (SoC outside the OCV table).
    let (s, v) = t
        .call("POST", &sim, Some(&tok), Some(json!({"protocol": {"initial": {"soc": 7.0}, "steps": [{"kind": "rest", "duration_s": 10.0}]}})))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let failed_job = v["job_id"].as_i64().unwrap();
    let mut last = Value::Null;
    for _ in 0..200 {
        let (_, v) = t.call("GET", &format!("{status}?job_id={failed_job}"), Some(&tok), None).await;
        if v["status"] == "failed" || v["status"] == "done" {
            last = v;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(last["status"], "failed", "{last}");
    assert_eq!(last["error"]["code"], "soc_outside_table", "{last}");
    assert_eq!(t.count("twin_jobs").await, 2);
    // Other users: 404 on both endpoints.
    assert_eq!(t.call("GET", &status, Some(&other), None).await.0, StatusCode::NOT_FOUND);
    let body = json!({"protocol": {"initial": {"soc": 0.5}, "steps": []}});
    assert_eq!(t.call("POST", &sim, Some(&other), Some(body)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        t.call("GET", &format!("{status}?job_id={job}"), Some(&other), None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn analysis_is_stored_and_explained_with_shap_and_lime() {
    use battsentinel_core::models::detector::{AnalyzeParams, FaultDetector};
    let t = TestApp::new().await;
    let tok = t.user("tara").await;
    let other = t.user("uma").await;
    let bat = t.battery(&tok, "arbin lfp").await;
    let analyze = format!("/api/ai/analyze/{bat}");
    // No data yet: 422, nothing stored.
    let (s, v) = t.call("POST", &analyze, Some(&tok), None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let bytes = std::fs::read(io_data::shared_data("cyclers/arbin_example.csv")).unwrap();
    let (s, v) = t
        .multipart(
            &format!("/api/batteries/{bat}/data"),
            Some(&tok),
            &[("file", Some("arbin_example.csv"), &bytes)],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, a) = t.call("POST", &analyze, Some(&tok), None).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["samples_used"], v["rows_inserted"]);
    // The stored channels give the detector what the file gives it: the same windows and verdict.
    let opts = battsentinel_core::io::ReadOptions {
        file_name: Some("arbin_example.csv".into()),
        ..Default::default()
    };
    let log = battsentinel_core::io::read_bytes(&bytes, &opts).unwrap();
    let direct = FaultDetector::default_detector().unwrap().analyze(&log, &AnalyzeParams::default()).unwrap();
    let windows = a["windows"].as_array().unwrap();
    assert_eq!(windows.len(), direct.windows.len(), "{a}");
    assert_eq!(a["verdict"], direct.summary.verdict.as_str());
    for w in windows {
        let sum: f64 = w["probabilities"].as_object().unwrap().values().map(|p| p.as_f64().unwrap()).sum();
        assert!((sum - 1.0).abs() < 1e-9, "{w}");
    }
    assert!(a["anomaly_score"].as_f64().unwrap().is_finite());
    assert_eq!(t.count("analyses").await, 1);
    let id = a["analysis_id"].as_i64().unwrap();
    // Explanation: SHAP efficiency holds, LIME has weights, both plots are SVG; the second call is the stored one.
    let explain = format!("/api/ai/explain/{id}");
    let (s, e) = t.call("GET", &explain, Some(&tok), None).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let values: Vec<f64> =
        e["shap"]["values"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    assert_eq!(values.len(), e["feature_names"].as_array().unwrap().len());
    let (base, out) =
        (e["shap"]["base_value"].as_f64().unwrap(), e["shap"]["model_output"].as_f64().unwrap());
    assert!((values.iter().sum::<f64>() - (out - base)).abs() < 1e-9, "SHAP efficiency: {e}");
    assert!(!e["lime"]["weights"].as_array().unwrap().is_empty());
    assert!(e["shap_svg"].as_str().unwrap().starts_with("<svg"), "{}", e["shap_svg"]);
    assert!(e["lime_svg"].as_str().unwrap().contains("<svg"));
    let (_, again) = t.call("GET", &explain, Some(&tok), None).await;
    assert_eq!(again, e);
    // Other users: 404.
    assert_eq!(t.call("GET", &explain, Some(&other), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(t.call("POST", &analyze, Some(&other), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(t.call("GET", "/api/ai/explain/999999", Some(&tok), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        t.call("POST", &format!("{analyze}?from_s=abc"), Some(&tok), None).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(t.count("analyses").await, 1);
}
