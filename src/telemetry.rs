//! Logs, request ids and metrics.
//!
//! Every request gets an id (the caller's `x-request-id` when it is sane, else a fresh UUID),
//! echoed on the response and carried by the span every log line of that request is written in.
//! Requests are counted and timed by route template (never the raw path, which would let a
//! caller mint unbounded label values) and status.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Installs the global subscriber; `RUST_LOG` filters (default `info`). Text has colours only
/// on a terminal (not in a pipe or a file); JSON has one object per line with the fields of the
/// request's span (`request_id`, `method`, `path`) at the top level beside the event's.
pub fn init(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second init (tests build many apps in one process) is harmless and ignored.
    let _ = match format {
        LogFormat::Json => builder
            .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
            .event_format(JsonLine)
            .try_init(),
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
    };
}

/// One JSON object per event: `timestamp`, `level`, `target`, the fields of every enclosing span
/// (outermost first, so the request's `request_id` is a top-level field of every line written
/// while serving it), then the event's own fields (`message`, ...).
struct JsonLine;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for JsonLine
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        use serde_json::{Map, Value};
        use tracing_subscriber::fmt::time::FormatTime;
        let mut line = Map::new();
        let mut timestamp = String::new();
        tracing_subscriber::fmt::time::SystemTime
            .format_time(&mut tracing_subscriber::fmt::format::Writer::new(&mut timestamp))?;
        line.insert("timestamp".into(), Value::String(timestamp));
        line.insert("level".into(), Value::String(event.metadata().level().to_string()));
        line.insert("target".into(), Value::String(event.metadata().target().to_owned()));
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let fields = extensions.get::<tracing_subscriber::fmt::FormattedFields<N>>();
                if let Some(Ok(Value::Object(fields))) = fields.map(|f| serde_json::from_str::<Value>(f)) {
                    line.extend(fields);
                }
            }
        }
        event.record(&mut JsonVisitor(&mut line));
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// Records an event's fields into the line.
struct JsonVisitor<'a>(&'a mut serde_json::Map<String, serde_json::Value>);

impl tracing::field::Visit for JsonVisitor<'_> {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_bool(&mut self, field: &tracing::field::Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}").into());
    }
}

/// The id of the request being served, in the request's extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The process's metrics. Request metrics are recorded by [`observe`]; pool and outbox gauges
/// are read when `/metrics` is scraped.
#[derive(Clone)]
pub struct Metrics {
    pub registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pub pool_connections: IntGauge,
    pub pool_idle: IntGauge,
    pub pool_max: IntGauge,
    pub mail_pending: IntGauge,
    pub mail_failed: IntGauge,
    pub webhook_pending: IntGauge,
    pub webhook_failed: IntGauge,
    webhook_attempts: IntCounterVec,
    webhook_duration: HistogramVec,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by method, route template and status"),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency by route template")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            &["method", "route"],
        )?;
        let pool_connections = IntGauge::new("db_pool_connections", "Open database connections")?;
        let pool_idle = IntGauge::new("db_pool_idle_connections", "Idle database connections")?;
        let pool_max = IntGauge::new("db_pool_max_connections", "Pool size limit")?;
        let mail_pending = IntGauge::new(
            "mail_outbox_pending",
            "Mails waiting to be sent (all instances share the outbox)",
        )?;
        let mail_failed =
            IntGauge::new("mail_outbox_failed", "Mails given up after their last attempt (all instances)")?;
        let webhook_pending = IntGauge::new(
            "webhook_deliveries_pending",
            "Webhook deliveries waiting for an attempt (all instances share them)",
        )?;
        let webhook_failed = IntGauge::new(
            "webhook_deliveries_failed",
            "Webhook deliveries given up after their last attempt (all instances)",
        )?;
        let webhook_attempts = IntCounterVec::new(
            Opts::new(
                "webhook_delivery_attempts_total",
                "Webhook delivery attempts of this instance by outcome (delivered, retry, failed, gone)",
            ),
            &["outcome"],
        )?;
        let webhook_duration = HistogramVec::new(
            HistogramOpts::new(
                "webhook_delivery_duration_seconds",
                "Webhook delivery attempt duration by outcome",
            )
            .buckets(vec![0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0]),
            &["outcome"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool_connections.clone()))?;
        registry.register(Box::new(pool_idle.clone()))?;
        registry.register(Box::new(pool_max.clone()))?;
        registry.register(Box::new(mail_pending.clone()))?;
        registry.register(Box::new(mail_failed.clone()))?;
        registry.register(Box::new(webhook_pending.clone()))?;
        registry.register(Box::new(webhook_failed.clone()))?;
        registry.register(Box::new(webhook_attempts.clone()))?;
        registry.register(Box::new(webhook_duration.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            pool_connections,
            pool_idle,
            pool_max,
            mail_pending,
            mail_failed,
            webhook_pending,
            webhook_failed,
            webhook_attempts,
            webhook_duration,
        })
    }

    /// One webhook attempt that ended as `outcome` after `elapsed`.
    pub fn webhook_attempt(&self, outcome: &str, elapsed: std::time::Duration) {
        self.webhook_attempts.with_label_values(&[outcome]).inc();
        self.webhook_duration.with_label_values(&[outcome]).observe(elapsed.as_secs_f64());
    }
}

fn request_id_from(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned)
}

/// Whether responses carry `Server-Timing` (`SERVER_TIMING`), as app data.
#[derive(Debug, Clone, Copy)]
pub struct ServerTiming(pub bool);

const SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");

/// The outermost middleware: request id, span, statement count, access log line, metrics.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let request_id = request_id_from(&req);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let metrics = req.app_data::<actix_web::web::Data<Metrics>>().map(|m| m.get_ref().clone());
    let method = req.method().to_string();
    let server_timing = req.app_data::<ServerTiming>().is_some_and(|timing| timing.0);
    let span = tracing::info_span!("request", request_id = %request_id, method = %method, path = %req.path());
    let (response, statements) =
        crate::db::statements::counted(next.call(req).instrument(span.clone())).await;
    let mut response = response?;
    let statements = statements.get();

    let route = response.request().match_pattern().unwrap_or_else(|| "unmatched".into());
    let status = response.status();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    if server_timing {
        let value = HeaderValue::from_str(&format!("db;desc=\"{statements} statements\""));
        if let Ok(value) = value {
            response.headers_mut().insert(SERVER_TIMING, value);
        }
    }
    let elapsed = started.elapsed();
    if let Some(metrics) = metrics {
        metrics.requests.with_label_values(&[&method, &route, status.as_str()]).inc();
        metrics.latency.with_label_values(&[&method, &route]).observe(elapsed.as_secs_f64());
    }
    span.in_scope(|| {
        tracing::info!(route = %route, status = status.as_u16(), statements, elapsed_ms = elapsed.as_secs_f64() * 1000.0, "served");
    });
    Ok(response)
}
