//! The repair sessions this node takes part in as a replica, so that no data stays pending for a
//! session that will never end: a session aborted here refuses further Prepare and Stream
//! messages (a late one, after the coordinator gave up, would otherwise leave pending SSTables
//! behind), and a session that goes quiet for [`IDLE`] (its coordinator died or lost track of
//! it) is aborted by [`janitor`]. Pending data also returns to unrepaired when the node restarts.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

/// A session with no message for this long is aborted here. Generous: a replica may sit out
/// while the coordinator validates large ranges it does not replicate.
pub const IDLE: Duration = Duration::from_secs(24 * 3600);

/// Finished sessions are forgotten after this long.
const KEEP: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Active,
    Finalized,
    Aborted,
}

#[derive(Debug, Clone, Copy)]
struct LocalSession {
    state: State,
    last_seen: Instant,
}

/// One registry per process: a process runs one node.
static SESSIONS: LazyLock<Mutex<HashMap<String, LocalSession>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Records a message of `session`; refuses one for a session aborted here.
pub fn touch(session: &str) -> Result<(), String> {
    let mut m = SESSIONS.lock();
    let s = m
        .entry(session.to_string())
        .or_insert(LocalSession { state: State::Active, last_seen: Instant::now() });
    if s.state == State::Aborted {
        return Err(format!("repair session {session} was aborted on this node"));
    }
    s.last_seen = Instant::now();
    Ok(())
}

/// Marks `session` finalized or aborted here.
pub fn end(session: &str, state: State) {
    let mut m = SESSIONS.lock();
    let s = m.entry(session.to_string()).or_insert(LocalSession { state, last_seen: Instant::now() });
    s.state = state;
    s.last_seen = Instant::now();
}

/// The state of `session` here, if this node has seen it.
pub fn state(session: &str) -> Option<State> {
    SESSIONS.lock().get(session).map(|s| s.state)
}

/// Sessions still active with no message since `idle` ago.
fn idle_sessions(idle: Duration) -> Vec<String> {
    let mut m = SESSIONS.lock();
    m.retain(|_, s| s.state == State::Active || s.last_seen.elapsed() < KEEP);
    m.iter()
        .filter(|(_, s)| s.state == State::Active && s.last_seen.elapsed() >= idle)
        .map(|(id, _)| id.clone())
        .collect()
}

/// Every minute, aborts the sessions that went quiet: their pending data returns to unrepaired.
pub async fn janitor(engine: Arc<storage::Engine>) {
    loop {
        tokio::time::sleep(Duration::from_secs(60)).await;
        let idle = idle_sessions(IDLE);
        if idle.is_empty() {
            continue;
        }
        let engine = engine.clone();
        let _ = tokio::task::spawn_blocking(move || {
            for session in idle {
                tracing::warn!(%session, "repair session idle for a day: aborting it here");
                end(&session, State::Aborted);
                for t in engine.tables() {
                    if engine.pending_sessions(t.id).contains(&session)
                        && let Err(e) = engine.abort_repair(t.id, &session)
                    {
                        tracing::warn!(%session, error = %e, "cannot abort the repair session");
                    }
                }
            }
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_aborted_session_refuses_messages_and_idle_ones_are_found() {
        touch("s-active").unwrap();
        end("s-aborted", State::Aborted);
        assert!(touch("s-aborted").unwrap_err().contains("aborted"));
        assert_eq!(state("s-aborted"), Some(State::Aborted));
        let idle = idle_sessions(Duration::ZERO);
        assert!(idle.contains(&"s-active".to_string()) && !idle.contains(&"s-aborted".to_string()));
        assert!(!idle_sessions(IDLE).contains(&"s-active".to_string()));
    }
}
