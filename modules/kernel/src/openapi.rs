//! The last step of the API contract: what paperclip cannot see from a handler's signature.
//!
//! Paperclip documents a handler from its extractors and return type. Three things escape it, and
//! they are added here, once, to the generated OpenAPI 3 document:
//!
//! - **null**: an `Option` field is emitted as "not required" only, yet serde writes `None` as
//!   `null`; every property that is not required is declared `nullable`.
//! - **statuses the middleware answers**: the layers every request passes (tenant resolution,
//!   authentication, rate limits, idempotency, the body limits, text PostgreSQL cannot store)
//!   answer for any operation they wrap, so they are documented on every operation they wrap.
//! - **the error format**: every 4xx/5xx response is `application/problem+json` with the
//!   `Problem` schema, whoever declared it.
//! - **one of several bodies**: Swagger 2, paperclip's model, has no `oneOf`; a responder that
//!   answers one of several bodies under one status declares [`one_of`] and gets it here.
//! - **raw request bodies**: paperclip states every body parameter as JSON; an upload that takes
//!   the bytes of a file declares [`raw_body`] and gets a request body of those media types here.

use serde_json::{json, Map, Value};

const PROBLEM_REF: &str = "#/components/schemas/Problem";
/// Marks a placeholder schema made by [`one_of`] (a title is the one free-form field that
/// survives paperclip's conversion to OpenAPI 3).
const ONE_OF_MARK: &str = "agora:one-of:";

/// A response schema that is one of the named component schemas (each must be in the document's
/// definitions, e.g. through the responder's `update_definitions`).
pub fn one_of(names: &[String]) -> paperclip::v2::models::DefaultSchemaRaw {
    paperclip::v2::models::DefaultSchemaRaw {
        title: Some(format!("{ONE_OF_MARK}{}", names.join(","))),
        ..Default::default()
    }
}

/// Marks a body parameter made by [`raw_body`] (in its schema's title, like [`ONE_OF_MARK`]).
const RAW_BODY_MARK: &str = "agora:raw-body:";

/// A required request body of raw bytes in one of `media_types` (an uploaded file), for an
/// extractor's `update_parameter`.
pub fn raw_body(description: &str, media_types: &[&str]) -> paperclip::v2::models::DefaultParameterRaw {
    use paperclip::v2::models::{DataType, DataTypeFormat, DefaultSchemaRaw, Parameter, ParameterIn};
    Parameter {
        name: "body".into(),
        in_: ParameterIn::Body,
        description: Some(description.into()),
        required: true,
        schema: Some(DefaultSchemaRaw {
            title: Some(format!("{RAW_BODY_MARK}{}", media_types.join(","))),
            data_type: Some(DataType::String),
            format: Some(DataTypeFormat::Binary),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Why a status can come from the layers around a handler, whatever the handler does.
const EVERY_API_OPERATION: &[(&str, &str)] = &[
    ("400", "The request cannot be read: a malformed query, X-Tenant-ID, If-Match or body"),
    ("401", "Credentials were sent but are not valid here, or the operation needs a sign-in"),
    ("403", "Signed in without the permission, without the CSRF token, or the shop is suspended"),
    ("404", "No such resource, or no shop is addressed"),
    ("422", "Validation failed (including text PostgreSQL cannot store, such as NUL); `errors` names each field"),
    ("429", "Rate limited; see Retry-After"),
];

const UNSAFE_API_OPERATION: &[(&str, &str)] = &[
    ("409", "In conflict with the current state, or the same Idempotency-Key is still being answered"),
    ("422", "Validation failed, or the Idempotency-Key was used for another request"),
];

const WITH_BODY: &[(&str, &str)] =
    &[("413", "The body is larger than the server accepts"), ("415", "The body is not sent as application/json")];

/// Completes the OpenAPI 3 document paperclip generated (see the module documentation).
pub fn finish(mut spec: Value) -> Value {
    if let Some(schemas) = spec.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for schema in schemas.values_mut() {
            declare_nullable(schema);
        }
    }
    any_json_map_values(&mut spec);
    if let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for (method, operation) in item.iter_mut() {
                if let Some(operation) = operation.as_object_mut() {
                    complete_operation(path, method, operation);
                }
            }
        }
    }
    spec
}

/// A map of `serde_json::Value` (product attributes: `{"colour": "olive", "organic": true}`) comes
/// out as `additionalProperties: {type: object}`, which refuses the strings, numbers and lists it
/// really holds; its values are any JSON.
fn any_json_map_values(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if object.get("additionalProperties") == Some(&serde_json::json!({"type": "object"})) {
                object.insert("additionalProperties".into(), serde_json::json!({}));
            }
            object.values_mut().for_each(any_json_map_values);
        }
        Value::Array(items) => items.iter_mut().for_each(any_json_map_values),
        _ => {}
    }
}

/// Marks the properties an object schema does not require as `nullable`, here and in the inline
/// object schemas it holds.
fn declare_nullable(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else { return };
    let required: Vec<String> = object
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    if let Some(properties) = object.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, property) in properties.iter_mut() {
            declare_nullable(property);
            if !required.contains(name) {
                make_nullable(property);
            }
        }
    }
    for nested in ["items", "additionalProperties"] {
        if let Some(inner) = object.get_mut(nested) {
            declare_nullable(inner);
        }
    }
}

fn make_nullable(property: &mut Value) {
    let Some(object) = property.as_object_mut() else { return };
    // OpenAPI 3.0 ignores every sibling of `$ref`, so a nullable reference wraps it.
    if let Some(reference) = object.remove("$ref") {
        object.insert("allOf".into(), json!([{ "$ref": reference }]));
    }
    object.insert("nullable".into(), Value::Bool(true));
}

fn complete_operation(path: &str, method: &str, operation: &mut Map<String, Value>) {
    let api = crate::areas::is_api(path);
    let unsafe_method = matches!(method, "post" | "put" | "patch" | "delete");
    let with_body = operation.contains_key("requestBody");
    let raw_body = operation.get_mut("requestBody").is_some_and(expand_raw_body);

    let mut added: Vec<(&str, &str)> = Vec::new();
    if api {
        added.extend_from_slice(EVERY_API_OPERATION);
        if unsafe_method {
            added.extend_from_slice(UNSAFE_API_OPERATION);
        }
    }
    if with_body {
        // A raw body is read for what it is, whatever its declared type: no 415.
        added.extend(WITH_BODY.iter().copied().filter(|(status, _)| !raw_body || *status != "415"));
    }

    let responses = operation.entry("responses").or_insert_with(|| json!({}));
    let Some(responses) = responses.as_object_mut() else { return };
    for (status, description) in added {
        responses.entry(status).or_insert_with(|| json!({ "description": description }));
    }
    for (status, response) in responses.iter_mut() {
        if let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) {
            for media in content.values_mut() {
                if let Some(schema) = media.get_mut("schema") {
                    expand_one_of(schema);
                }
            }
        }
        let is_error = status.parse::<u16>().is_ok_and(|s| s >= 400);
        if let (true, Some(response)) = (is_error, response.as_object_mut()) {
            response.insert(
                "content".into(),
                json!({ crate::error::PROBLEM_CONTENT_TYPE: { "schema": { "$ref": PROBLEM_REF } } }),
            );
        }
    }
}

/// Turns a [`raw_body`] placeholder into one binary body per media type; true if it was one.
fn expand_raw_body(body: &mut Value) -> bool {
    let types = body
        .pointer("/content/application~1json/schema/title")
        .and_then(Value::as_str)
        .and_then(|t| t.strip_prefix(RAW_BODY_MARK))
        .map(|types| types.split(',').map(str::to_string).collect::<Vec<_>>());
    let Some(types) = types else { return false };
    let content: Map<String, Value> =
        types.into_iter().map(|media| (media, json!({ "schema": { "type": "string", "format": "binary" } }))).collect();
    body["content"] = Value::Object(content);
    true
}

fn expand_one_of(schema: &mut Value) {
    let names = schema.get("title").and_then(Value::as_str).and_then(|t| t.strip_prefix(ONE_OF_MARK));
    if let Some(names) = names {
        let refs: Vec<Value> =
            names.split(',').map(|name| json!({ "$ref": format!("#/components/schemas/{name}") })).collect();
        *schema = json!({ "oneOf": refs });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_fields_become_nullable_and_references_stay_valid() {
        let spec = finish(json!({
            "components": {"schemas": {"Key": {
                "type": "object",
                "required": ["id"],
                "properties": {
                    "id": {"type": "string"},
                    "last_used_at": {"type": "string", "format": "date-time"},
                    "owner": {"$ref": "#/components/schemas/Owner"},
                    "nested": {"type": "object", "properties": {"note": {"type": "string"}}}
                }
            }}},
            "paths": {}
        }));
        let key = &spec["components"]["schemas"]["Key"]["properties"];
        assert_eq!(key["id"].get("nullable"), None);
        assert_eq!(key["last_used_at"]["nullable"], true);
        assert_eq!(key["owner"], json!({"allOf": [{"$ref": "#/components/schemas/Owner"}], "nullable": true}));
        assert_eq!(key["nested"]["properties"]["note"]["nullable"], true);
    }

    #[test]
    fn errors_are_problems_and_middleware_statuses_are_listed() {
        let spec = finish(json!({"paths": {
            "/api/v1/admin/things": {"post": {
                "requestBody": {"content": {"application/json": {"schema": {}}}},
                "responses": {"201": {"description": "Created"}, "404": {"description": "Not found",
                    "content": {"application/json": {"schema": {"$ref": PROBLEM_REF}}}}}
            }},
            "/healthz": {"get": {"responses": {"200": {"description": "OK"}}}}
        }}));
        let post = &spec["paths"]["/api/v1/admin/things"]["post"];
        for status in ["400", "401", "403", "404", "409", "413", "415", "422", "429"] {
            let content = &post["responses"][status]["content"];
            assert_eq!(content["application/problem+json"]["schema"]["$ref"], PROBLEM_REF, "{status}");
            assert_eq!(content.get("application/json"), None, "{status}");
        }
        assert_eq!(post["responses"]["404"]["description"], "Not found");
        let health = &spec["paths"]["/healthz"]["get"]["responses"];
        assert!(health.get("401").is_none() && health.get("429").is_none());
    }

    #[test]
    fn a_raw_body_offers_each_media_type_as_bytes() {
        let parameter = raw_body("The image", &["image/png", "image/jpeg"]);
        let schema = serde_json::to_value(parameter.schema).unwrap_or_default();
        let spec = finish(json!({"paths": {"/api/v1/admin/uploads": {"post": {
            "requestBody": {"required": true, "content": {"application/json": {"schema": schema}}},
            "responses": {"201": {"description": "Created"}}
        }}}}));
        let post = &spec["paths"]["/api/v1/admin/uploads"]["post"];
        let binary = json!({"schema": {"type": "string", "format": "binary"}});
        assert_eq!(post["requestBody"]["content"], json!({"image/png": binary, "image/jpeg": binary}));
        assert_eq!(post["requestBody"]["required"], true);
        assert!(post["responses"].get("413").is_some());
        assert!(post["responses"].get("415").is_none(), "the body's declared type is not checked");
    }

    #[test]
    fn one_of_becomes_a_one_of_of_references() {
        let marker = serde_json::to_value(one_of(&["Granted".into(), "Challenge".into()])).unwrap_or_default();
        let spec = finish(json!({"paths": {"/login": {"post": {"responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": marker}}}
        }}}}}));
        assert_eq!(
            spec["paths"]["/login"]["post"]["responses"]["200"]["content"]["application/json"]["schema"],
            json!({"oneOf": [{"$ref": "#/components/schemas/Granted"}, {"$ref": "#/components/schemas/Challenge"}]})
        );
    }
}
