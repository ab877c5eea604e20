//! Calls to a shop's identity provider: every one through the platform's guarded outbound
//! client, discovery documents cached.

use super::*;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct HttpFailure(String);

/// One provider call through the platform's guarded client: every URL (the issuer's, and the
/// keys, token and userinfo URLs its discovery document names) is checked against the outbound
/// policy, and redirects are not followed, since either would let a provider make us call
/// arbitrary hosts.
pub(crate) async fn send(
    outbound: Outbound,
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, HttpFailure> {
    let mut request = reqwest::Request::try_from(request).map_err(|e| HttpFailure(e.to_string()))?;
    *request.timeout_mut() = Some(PROVIDER_TIMEOUT);
    let response = outbound.send(request).await.map_err(|e| HttpFailure(e.to_string()))?;
    let mut builder = http::Response::builder().status(response.status().as_u16());
    for (name, value) in response.headers() {
        builder = builder.header(name.as_str(), value.as_bytes());
    }
    let body = response.bytes().await.map_err(|e| HttpFailure(e.to_string()))?;
    builder.body(body.to_vec()).map_err(|e| HttpFailure(e.to_string()))
}

/// The provider's discovery document: from the cache, or fetched (with its keys) through the
/// guarded client. A stored issuer the policy now refuses is never called.
pub(crate) async fn provider_metadata(
    m: &IdentityModule,
    issuer_url: &str,
) -> Result<Arc<CoreProviderMetadata>, OidcError> {
    let issuer = parse_issuer(issuer_url)?;
    outbound::check_url(issuer_url.trim(), m.inner.outbound.policy()).map_err(OidcError::IssuerRefused)?;
    if let Some(cached) = m.inner.discovery.get(issuer_url).await {
        return Ok(cached);
    }
    let http = m.inner.outbound.clone();
    let metadata = CoreProviderMetadata::discover_async(issuer, &|r| send(http.clone(), r))
        .await
        .map_err(|e| OidcError::Provider(format!("discovery: {e}")))?;
    let metadata = Arc::new(metadata);
    m.inner.discovery.insert(issuer_url.to_string(), metadata.clone()).await;
    Ok(metadata)
}
