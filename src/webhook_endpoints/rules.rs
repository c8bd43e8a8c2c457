//! The rules of webhook endpoints: a target must pass the SSRF policy (checked before the
//! transaction, since resolving a host may take seconds); an endpoint hears at least one type or
//! every type; a disabled endpoint is neither retried nor tested.

use super::models::{DisabledReason, EndpointChanges, EndpointStatus};
use crate::config::WebhookSettings;
use crate::error::{AppError, ConflictKind, FieldCode};
use crate::webhooks::EventType;
use crate::webhooks::target::{Policy, Refused};

/// The URL as it is stored, once its form passed and its host resolved only to addresses
/// webhooks may reach; a 422 naming `url` with the reason otherwise.
pub async fn check_url(settings: &WebhookSettings, raw: &str) -> Result<String, AppError> {
    let policy = Policy::from(settings);
    let refused = |reason: Refused| {
        let code = match reason {
            Refused::Forbidden { .. } | Refused::Unresolvable(_) => FieldCode::NotAllowed,
            _ => FieldCode::Invalid,
        };
        AppError::field("url", code, &reason.to_string())
    };
    let url = policy.parse(raw.trim()).map_err(refused)?;
    policy.addresses(&url).await.map_err(refused)?;
    Ok(url.to_string())
}

/// The event types as stored: sorted, without duplicates; `None` (every type) stays `None`. An
/// empty list is a 422: an endpoint that hears nothing is a disabled one.
pub fn stored(event_types: Option<&[EventType]>) -> Result<Option<Vec<Option<EventType>>>, AppError> {
    let Some(types) = event_types else { return Ok(None) };
    if types.is_empty() {
        return Err(AppError::field(
            "event_types",
            FieldCode::Length,
            "must name at least one event type; omit it (or send null) for every type",
        ));
    }
    let mut types = types.to_vec();
    types.sort();
    types.dedup();
    Ok(Some(types.into_iter().map(Some).collect()))
}

/// The columns a new status sets: a disabled endpoint says someone disabled it; an enabled one
/// starts its count of failed deliveries afresh, whatever disabled it.
pub fn status_change(changes: &mut EndpointChanges, status: EndpointStatus, current: EndpointStatus) {
    if status == current {
        return;
    }
    changes.status = Some(status);
    match status {
        EndpointStatus::Disabled => changes.disabled_reason = Some(Some(DisabledReason::Manual)),
        EndpointStatus::Active => {
            changes.disabled_reason = Some(None);
            changes.consecutive_failures = Some(0);
        }
    }
}

/// 409 for a retry or test of a disabled endpoint: nothing would be sent.
pub fn require_active(status: EndpointStatus) -> Result<(), AppError> {
    match status {
        EndpointStatus::Active => Ok(()),
        EndpointStatus::Disabled => Err(AppError::Conflict(
            ConflictKind::WebhookDisabled,
            "The webhook is disabled; enable it (PATCH status: active) first.".into(),
        )),
    }
}
