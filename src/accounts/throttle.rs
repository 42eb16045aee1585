//! Slows down one client that fails to sign in again and again, whatever accounts it tries.
//! Kept in memory per process: the per-account slow-down in the database is the one that holds
//! across processes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per client within the window.
const FAILURES_ALLOWED: u32 = 20;
const WINDOW: Duration = Duration::from_secs(10 * 60);
/// Past this many clients, the oldest entries are dropped so memory stays flat.
const CLIENTS_REMEMBERED: usize = 10_000;

#[derive(Default)]
pub struct ClientThrottle {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl ClientThrottle {
    pub fn allow(&self, client: IpAddr) -> bool {
        let Ok(failures) = self.failures.lock() else {
            return true;
        };
        failures
            .get(&client)
            .is_none_or(|(count, since)| *count < FAILURES_ALLOWED || since.elapsed() > WINDOW)
    }

    pub fn failed(&self, client: IpAddr) {
        let Ok(mut failures) = self.failures.lock() else {
            return;
        };
        if failures.len() >= CLIENTS_REMEMBERED {
            failures.retain(|_, (_, since)| since.elapsed() <= WINDOW);
        }
        let entry = failures.entry(client).or_insert((0, Instant::now()));
        if entry.1.elapsed() > WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    pub fn forget(&self, client: IpAddr) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(&client);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_held_back_after_twenty_failures_and_forgotten_after_success() {
        let throttle = ClientThrottle::default();
        let client: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..FAILURES_ALLOWED {
            assert!(throttle.allow(client));
            throttle.failed(client);
        }
        assert!(!throttle.allow(client));
        assert!(throttle.allow([10, 0, 0, 2].into()));
        throttle.forget(client);
        assert!(throttle.allow(client));
    }
}
