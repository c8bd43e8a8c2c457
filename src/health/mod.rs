//! Liveness, readiness and metrics for operators.

pub mod handlers;
