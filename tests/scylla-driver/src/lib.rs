//! Nothing but tests: see `tests/scylla_driver.rs`.
