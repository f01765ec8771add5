//! Repair state recovery at start-up (placeholder while being implemented).
