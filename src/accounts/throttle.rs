//! Slows down one client that fails to sign in again and again, whatever e-mails it tries.
//! Kept in memory per process — a client's address is never stored — while the per-e-mail limit
//! in the database (`limits`) is the one that holds across processes.
//!
//! Checking and counting are one step under one lock: an attempt is counted when it is let
//! through, so parallel attempts cannot all pass the check before any is counted. A success gives
//! back its own attempt and nothing more: it never clears the client's other failures.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Attempts allowed per client within the window.
pub const ATTEMPTS_ALLOWED: u32 = 20;
const WINDOW: Duration = Duration::from_secs(10 * 60);
/// Past this many clients, the entries of past windows are dropped so memory stays flat.
const CLIENTS_REMEMBERED: usize = 10_000;

/// What a client's attempt may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientVerdict {
    Allowed,
    /// Too many attempts; `first` for the first one refused in this window (the one audited).
    Throttled {
        first: bool,
    },
}

#[derive(Clone, Copy)]
struct Window {
    attempts: u32,
    since: Instant,
    refusal_audited: bool,
}

#[derive(Default)]
pub struct ClientThrottle {
    windows: Mutex<HashMap<IpAddr, Window>>,
}

impl ClientThrottle {
    /// Counts an attempt of `client` if it is allowed; says so either way.
    pub fn reserve(&self, client: IpAddr) -> ClientVerdict {
        let Ok(mut windows) = self.windows.lock() else {
            return ClientVerdict::Allowed;
        };
        if windows.len() >= CLIENTS_REMEMBERED {
            windows.retain(|_, window| window.since.elapsed() <= WINDOW);
        }
        let window = windows.entry(client).or_insert(Window {
            attempts: 0,
            since: Instant::now(),
            refusal_audited: false,
        });
        if window.since.elapsed() > WINDOW {
            *window = Window {
                attempts: 0,
                since: Instant::now(),
                refusal_audited: false,
            };
        }
        if window.attempts < ATTEMPTS_ALLOWED {
            window.attempts += 1;
            ClientVerdict::Allowed
        } else {
            let first = !window.refusal_audited;
            window.refusal_audited = true;
            ClientVerdict::Throttled { first }
        }
    }

    /// A reserved attempt succeeded: it is given back.
    pub fn succeeded(&self, client: IpAddr) {
        if let Ok(mut windows) = self.windows.lock()
            && let Some(window) = windows.get_mut(&client)
        {
            window.attempts = window.attempts.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_held_back_after_twenty_attempts_and_audited_once() {
        let throttle = ClientThrottle::default();
        let client: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..ATTEMPTS_ALLOWED {
            assert_eq!(throttle.reserve(client), ClientVerdict::Allowed);
        }
        assert_eq!(
            throttle.reserve(client),
            ClientVerdict::Throttled { first: true }
        );
        assert_eq!(
            throttle.reserve(client),
            ClientVerdict::Throttled { first: false }
        );
        assert_eq!(
            throttle.reserve([10, 0, 0, 2].into()),
            ClientVerdict::Allowed
        );
    }

    #[test]
    fn a_success_gives_back_only_its_own_attempt() {
        let throttle = ClientThrottle::default();
        let client: IpAddr = [10, 0, 0, 3].into();
        for _ in 0..ATTEMPTS_ALLOWED {
            throttle.reserve(client);
        }
        throttle.succeeded(client);
        assert_eq!(throttle.reserve(client), ClientVerdict::Allowed);
        assert!(matches!(
            throttle.reserve(client),
            ClientVerdict::Throttled { .. }
        ));
    }

    #[test]
    fn parallel_attempts_are_counted_one_by_one() {
        let throttle = std::sync::Arc::new(ClientThrottle::default());
        let client: IpAddr = [10, 0, 0, 4].into();
        let allowed: usize = (0..60)
            .map(|_| {
                let throttle = throttle.clone();
                std::thread::spawn(move || throttle.reserve(client) == ClientVerdict::Allowed)
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|thread| usize::from(thread.join().unwrap_or(false)))
            .sum();
        assert_eq!(allowed, ATTEMPTS_ALLOWED as usize);
    }
}
