//! Logging and tracing. Logs go to stderr (so command output on stdout stays clean): JSON lines in
//! production, one object per event with the request span's fields such as `request_id`;
//! human-readable on a terminal. With an OTLP endpoint configured, spans are also exported as
//! OpenTelemetry traces over OTLP/HTTP.

use crate::config::LogFormat;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::io::IsTerminal;
use tracing_subscriber::{fmt, prelude::*, EnvFilter, Layer};

/// Keeps the trace exporter alive; flushes it when dropped.
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.traces.take() {
            if let Err(e) = provider.shutdown() {
                eprintln!("trace export did not flush: {e}");
            }
        }
    }
}

pub fn init(format: LogFormat, otlp_endpoint: Option<&str>) -> Telemetry {
    // PostgreSQL NOTICEs ("schema already exists") and refinery chatter are not news.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tokio_postgres=warn,refinery_core=warn"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let logs = if json {
        fmt::layer()
            .with_writer(std::io::stderr)
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed()
    } else {
        fmt::layer().with_writer(std::io::stderr).compact().boxed()
    };
    let traces = otlp_endpoint.and_then(|endpoint| match tracer_provider(endpoint) {
        Ok(provider) => Some(provider),
        Err(e) => {
            eprintln!("OTLP trace export disabled: {e}");
            None
        }
    });
    let otel = traces.as_ref().map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer("agora")));
    // Already initialised (tests call this more than once): keep the first.
    let _ = tracing_subscriber::registry().with(filter).with(logs).with(otel).try_init();
    Telemetry { traces }
}

fn tracer_provider(endpoint: &str) -> Result<SdkTracerProvider, String> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(endpoint)
        .build()
        .map_err(|e| e.to_string())?;
    let resource = opentelemetry_sdk::Resource::builder().with_service_name("agora").build();
    Ok(SdkTracerProvider::builder().with_resource(resource).with_batch_exporter(exporter).build())
}
