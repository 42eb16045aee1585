//! How many answers one client address sends to one link: kept in this process's memory only —
//! the address is never stored, logged or exported — for `admission_minutes`. Past
//! `answers_per_address` the address's answers to that link are held: the one that passes the
//! ceiling and every later one are held as they are stored, and the earlier ones of the window
//! (whose keys are remembered here, nothing else) are held after it, so that someone who fills a
//! school's link from one computer gets none of it counted.
//!
//! Checking and counting are one step under one lock. With several dupin processes behind one
//! proxy each keeps its own count (an address may then send up to the ceiling to each process);
//! the link's own rate (`admission` table, counted by the writer) is shared by all of them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Past this many (address, link) pairs, the entries of past windows are dropped.
const PAIRS_REMEMBERED: usize = 50_000;

/// What an address's answer to a link is, as admission sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddressVerdict {
    /// Under the ceiling: stored as usual.
    Admitted,
    /// Past the ceiling: held. `earlier` holds the keys of the address's earlier answers to the
    /// link in this window, to be held too — given once, with the answer that passed it.
    Held { earlier: Vec<String> },
}

struct Window {
    since: Instant,
    /// The keys of the answers in this window while it is under the ceiling.
    keys: Vec<String>,
    passed: bool,
}

#[derive(Default)]
pub struct AddressWindows {
    windows: Mutex<Windows>,
}

#[derive(Default)]
struct Windows {
    by_pair: HashMap<(IpAddr, i32), Window>,
    /// The size at which past windows are next swept out: [`PAIRS_REMEMBERED`], or twice what
    /// the last sweep kept. Sweeping at every answer once that many addresses were in their
    /// window made each answer scan them all (a county's morning of phones on their own
    /// addresses); doubling keeps the sweeps' cost per answer constant and forgets nothing
    /// earlier than before: a window is dropped only once it is over.
    sweep_at: usize,
}

impl AddressWindows {
    /// Counts the answer `key` from `address` to link `link_id`, with at most `ceiling` in a
    /// window of `minutes`.
    pub fn admit(
        &self,
        address: IpAddr,
        link_id: i32,
        key: &str,
        ceiling: u32,
        minutes: u32,
    ) -> AddressVerdict {
        let Ok(mut windows) = self.windows.lock() else {
            return AddressVerdict::Admitted;
        };
        let length = Duration::from_secs(u64::from(minutes) * 60);
        let Windows { by_pair, sweep_at } = &mut *windows;
        if by_pair.len() >= (*sweep_at).max(PAIRS_REMEMBERED) {
            by_pair.retain(|_, window| window.since.elapsed() <= length);
            *sweep_at = by_pair.len().saturating_mul(2);
        }
        let window = by_pair.entry((address, link_id)).or_insert(Window {
            since: Instant::now(),
            keys: Vec::new(),
            passed: false,
        });
        if window.since.elapsed() > length {
            *window = Window {
                since: Instant::now(),
                keys: Vec::new(),
                passed: false,
            };
        }
        if window.passed {
            return AddressVerdict::Held {
                earlier: Vec::new(),
            };
        }
        if window.keys.len() < ceiling as usize {
            window.keys.push(key.to_owned());
            return AddressVerdict::Admitted;
        }
        window.passed = true;
        AddressVerdict::Held {
            earlier: std::mem::take(&mut window.keys),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_ceiling_the_answer_and_the_earlier_ones_are_held_once() {
        let windows = AddressWindows::default();
        let address: IpAddr = [10, 0, 0, 1].into();
        for n in 0..3 {
            assert_eq!(
                windows.admit(address, 7, &format!("k{n}"), 3, 10),
                AddressVerdict::Admitted
            );
        }
        assert_eq!(
            windows.admit(address, 7, "k3", 3, 10),
            AddressVerdict::Held {
                earlier: vec!["k0".to_owned(), "k1".to_owned(), "k2".to_owned()]
            }
        );
        assert_eq!(
            windows.admit(address, 7, "k4", 3, 10),
            AddressVerdict::Held {
                earlier: Vec::new()
            }
        );
        // Another link, or another address, is counted apart.
        assert_eq!(
            windows.admit(address, 8, "k5", 3, 10),
            AddressVerdict::Admitted
        );
        assert_eq!(
            windows.admit([10, 0, 0, 2].into(), 7, "k6", 3, 10),
            AddressVerdict::Admitted
        );
    }

    #[test]
    fn windows_still_open_are_kept_however_many_addresses_pass_the_sweep() {
        let windows = AddressWindows::default();
        let first: IpAddr = [10, 0, 0, 1].into();
        for n in 0..3 {
            windows.admit(first, 7, &format!("k{n}"), 3, 10);
        }
        for n in 0..(PAIRS_REMEMBERED as u32 + 10) {
            windows.admit(IpAddr::from(n.to_be_bytes()), 8, "other", 3, 10);
        }
        let sweep_at = windows.windows.lock().expect("not poisoned").sweep_at;
        assert!(
            sweep_at > PAIRS_REMEMBERED,
            "swept once, next at {sweep_at}"
        );
        assert_eq!(
            windows.admit(first, 7, "k3", 3, 10),
            AddressVerdict::Held {
                earlier: vec!["k0".to_owned(), "k1".to_owned(), "k2".to_owned()]
            },
            "the first address's window survived the sweep"
        );
    }
}
