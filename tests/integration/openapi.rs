//! The committed contract must be what the handlers generate. Regenerate with
//! `cargo run -- openapi --output openapi/openapi.json` (or run this test with UPDATE_OPENAPI=1).

#[tokio::test]
async fn committed_openapi_matches_the_code() {
    let config = agora::config::Config::load(None, &std::collections::HashMap::new()).unwrap();
    let state =
        agora::app::AppState::build(&config, &secrecy::SecretString::from("host=/nonexistent dbname=none".to_string()))
            .unwrap();
    let generated = agora::app::openapi_document(state).await.unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "openapi/openapi.json is stale: run `cargo run -- openapi --output openapi/openapi.json` and commit it"
    );
    // Every operation documents its problem responses.
    for (path, item) in generated["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(op["operationId"].is_string(), "{method} {path} has an operationId");
        }
    }
}

#[tokio::test]
async fn the_server_publishes_the_spec_and_swagger_ui() {
    let app = crate::support::TestApp::spawn().await;
    let spec: serde_json::Value = app.get("/api/openapi.json").send().await.unwrap().json().await.unwrap();
    assert!(spec["paths"]["/api/v1/store/shop"]["get"].is_object());
    let docs = app.get("/api/docs").send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
}

/// Every event's JSON schema is committed under openapi/events/ and matches the code.
/// Regenerate with `cargo run -- event-schemas` (or run this test with UPDATE_OPENAPI=1).
#[tokio::test]
async fn committed_event_schemas_match_the_code() {
    let config = agora::config::Config::load(None, &std::collections::HashMap::new()).unwrap();
    let state =
        agora::app::AppState::build(&config, &secrecy::SecretString::from("host=/nonexistent dbname=none".to_string()))
            .unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/events");
    let update = std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1");
    let mut expected = Vec::new();
    for (name, schema) in state.bus.schemas() {
        assert!(name.rsplit('.').next().is_some_and(|v| v.starts_with('v')), "{name} carries a version");
        let file = format!("{name}.json");
        let text = serde_json::to_string_pretty(schema).unwrap() + "\n";
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(&file), &text).unwrap();
        }
        let committed = std::fs::read_to_string(dir.join(&file)).unwrap_or_default();
        assert!(committed == text, "openapi/events/{file} is stale: run `cargo run -- event-schemas` and commit it");
        expected.push(file);
    }
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
        .unwrap_or_default();
    present.sort();
    expected.sort();
    assert_eq!(present, expected, "openapi/events/ holds exactly the declared events");
    assert!(expected.iter().any(|f| f == "tenancy.tenant_created.v1.json"));
}

/// What a generated client relies on: optional fields may be `null`, every error is a Problem
/// in `application/problem+json`, and the statuses the middleware answers for every operation
/// (401/403/429, idempotency's 409/422, the body's 413/415, If-Match's 412) are listed.
#[tokio::test]
async fn the_contract_declares_nulls_problems_and_every_status_the_middleware_answers() {
    let config = agora::config::Config::load(None, &std::collections::HashMap::new()).unwrap();
    let state =
        agora::app::AppState::build(&config, &secrecy::SecretString::from("host=/nonexistent dbname=none".to_string()))
            .unwrap();
    let spec = agora::app::openapi_document(state).await.unwrap();
    let schemas = &spec["components"]["schemas"];
    assert_eq!(schemas["ApiKey"]["properties"]["last_used_at"]["nullable"], true);
    let audit_entry = &schemas["Page<AuditEntry>"]["properties"]["items"]["items"];
    assert_eq!(audit_entry["properties"]["ip"]["nullable"], true, "{audit_entry}");
    assert!(schemas["ApiKey"]["properties"]["id"].get("nullable").is_none(), "required fields are not nullable");
    assert!(
        !schemas["Problem"]["required"].as_array().unwrap().iter().any(|r| r == "errors"),
        "`errors` is only present on validation problems"
    );

    let problem = serde_json::json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            for (status, response) in responses {
                if status.as_str() >= "400" {
                    assert_eq!(response["content"], problem, "{method} {path} {status}");
                }
            }
            if !path.starts_with("/api/v1/") {
                continue;
            }
            for status in ["400", "401", "403", "404", "422", "429", "500", "503"] {
                assert!(responses.contains_key(status), "{method} {path} documents {status}");
            }
            let header = |name: &str| {
                op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["in"] == "header" && p["name"] == name))
            };
            if method != "get" {
                assert!(responses.contains_key("409"), "{method} {path} documents 409");
            }
            if let Some(body) = op.get("requestBody") {
                assert!(responses.contains_key("413"), "{method} {path} documents 413");
                // A JSON body of another declared type is refused; a raw body (an image, a CSV
                // file) is read for what its bytes are, whatever its declared type.
                let json = body["content"].get("application/json").is_some();
                assert_eq!(
                    responses.contains_key("415"),
                    json,
                    "{method} {path} documents 415 exactly for JSON bodies"
                );
            }
            if header("If-Match") {
                assert!(responses.contains_key("412"), "{method} {path} documents 412");
            }
        }
    }
    let update = &spec["paths"]["/api/v1/admin/webhooks/endpoints/{endpoint_id}"]["patch"];
    assert!(update["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "If-Match"));
    assert!(update["responses"]["412"].is_object());
}

/// The docs page's file handler (paperclip's) panics on a name its bundle lacks, taking an HTTP
/// worker and every request on it down; such names are a 404 problem before they reach it, and
/// the bundle's own files are still served.
#[tokio::test]
async fn unknown_docs_files_are_404s_not_a_worker_panic() {
    let app = crate::support::TestApp::spawn().await;
    for path in ["/api/docs/nope.js", "/api/docs/swagger-ui.js.map", "/api/docs/", "/api/docs?url=x"] {
        let res = app.get(path).send().await.unwrap();
        crate::support::problem(res, 404).await;
    }
    for file in ["index.html", "swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"] {
        let res = app.get(&format!("/api/docs/{file}")).send().await.unwrap();
        assert_eq!(res.status(), 200, "{file}");
        assert!(!res.bytes().await.unwrap().is_empty(), "{file}");
    }
}
