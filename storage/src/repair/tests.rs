//! Repair tests (placeholder).
