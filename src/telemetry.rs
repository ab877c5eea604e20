//! Logging (to stderr, so command output on stdout stays clean): JSON lines in production (one object per event, with the request span's fields such
//! as `request_id`), human-readable on a terminal.

use crate::config::LogFormat;
use std::io::IsTerminal;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let registry = tracing_subscriber::registry().with(filter);
    let result = if json {
        registry
            .with(
                fmt::layer()
                    .with_writer(std::io::stderr)
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init()
    } else {
        registry.with(fmt::layer().with_writer(std::io::stderr).compact()).try_init()
    };
    // Already initialised (tests call this more than once): keep the first.
    let _ = result;
}
