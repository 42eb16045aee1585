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
use std::time::Instant;

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

/// An address as it is counted: an IPv4 address whole; an IPv6 address by its /64 network —
/// what a carrier gives one phone, or a router one home — so that a phone cannot take a fresh
/// address of its network for every answer. IPv4 addresses are kept as
/// `ffff:ffff::/32` plus the address, a block no client can send from (`ff00::/8` is multicast).
fn counted_as(address: IpAddr) -> u64 {
    match address {
        IpAddr::V4(v4) => 0xffff_ffff_0000_0000 | u64::from(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => counted_as(IpAddr::V4(v4)),
            None => (u128::from(v6) >> 64) as u64,
        },
    }
}

/// One address's answers to one link within a window. Kept small, since a county's morning of
/// phones on addresses of their own keeps one for each (address, link) for `admission_minutes`:
/// 48 bytes and no allocation for an address with one answer, instead of the ≈ 190 bytes of a
/// list of key strings (≈ 4 MB more per 20,000 phones).
struct Window {
    /// Seconds after [`Windows::epoch`] at which the window opened.
    since: u32,
    /// Answers counted in the window, up to the ceiling; [`PASSED`] once past it.
    count: u32,
    /// The first answer's form key (`secrets::form_key`, as bytes).
    first: [u8; 16],
    /// The keys of the later answers of the window while it is under the ceiling.
    #[expect(
        clippy::box_collection,
        reason = "8 bytes in every window instead of a Vec's 24: most windows never get a second key"
    )]
    more: Option<Box<Vec<[u8; 16]>>>,
}

/// `Window::count` once the address passed the ceiling in the window.
const PASSED: u32 = u32::MAX;

impl Window {
    fn new(since: u32) -> Window {
        Window {
            since,
            count: 0,
            first: [0; 16],
            more: None,
        }
    }

    fn remember(&mut self, key: [u8; 16]) {
        if self.count == 0 {
            self.first = key;
        } else {
            self.more.get_or_insert_default().push(key);
        }
        self.count += 1;
    }

    /// The keys remembered, as the form keys they were; the window is then past the ceiling.
    fn pass(&mut self) -> Vec<String> {
        let first = (self.count > 0).then_some(self.first);
        let more = self.more.take().map(|more| *more).unwrap_or_default();
        self.count = PASSED;
        first
            .into_iter()
            .chain(more)
            // What was not a form key was remembered as zeros: nothing to hold.
            .filter(|key| *key != [0; 16])
            .map(|key| crate::secrets::hex(&key))
            .collect()
    }
}

pub struct AddressWindows {
    windows: Mutex<Windows>,
}

impl Default for AddressWindows {
    fn default() -> Self {
        AddressWindows {
            windows: Mutex::new(Windows {
                epoch: Instant::now(),
                by_pair: HashMap::new(),
                sweep_at: 0,
            }),
        }
    }
}

struct Windows {
    /// What `Window::since` counts from.
    epoch: Instant,
    by_pair: HashMap<(u64, i32), Window>,
    /// The size at which past windows are next swept out: [`PAIRS_REMEMBERED`], or twice what
    /// the last sweep kept. Sweeping at every answer once that many addresses were in their
    /// window made each answer scan them all (a county's morning of phones on their own
    /// addresses); doubling keeps the sweeps' cost per answer constant and forgets nothing
    /// earlier than before: a window is dropped only once it is over.
    sweep_at: usize,
}

impl AddressWindows {
    /// Counts the answer `key` (a form key, `secrets::form_key`) from `address` to link
    /// `link_id`, with at most `ceiling` in a window of `minutes`. A key that is not a form key
    /// is counted but cannot be held later.
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
        let length = u64::from(minutes) * 60;
        let Windows {
            epoch,
            by_pair,
            sweep_at,
        } = &mut *windows;
        let now = u32::try_from(epoch.elapsed().as_secs()).unwrap_or(u32::MAX);
        let over = |window: &Window| u64::from(now - window.since.min(now)) > length;
        if by_pair.len() >= (*sweep_at).max(PAIRS_REMEMBERED) {
            by_pair.retain(|_, window| !over(window));
            *sweep_at = by_pair.len().saturating_mul(2);
        }
        let window = by_pair
            .entry((counted_as(address), link_id))
            .or_insert_with(|| Window::new(now));
        if over(window) {
            *window = Window::new(now);
        }
        if window.count == PASSED {
            return AddressVerdict::Held {
                earlier: Vec::new(),
            };
        }
        if window.count < ceiling {
            window.remember(crate::secrets::key_bytes(key).unwrap_or_default());
            return AddressVerdict::Admitted;
        }
        AddressVerdict::Held {
            earlier: window.pass(),
        }
    }

    /// Whether `address` has passed its ceiling on link `link_id` in its current window. An
    /// answer admitted just before may be stored only after the answer that passed the ceiling
    /// held the earlier ones (two HTTP workers, one writer queue): asked once the admitted answer
    /// is stored, this says it must be held too. Either it was stored before that hold, which
    /// then found it, or it asks after the ceiling was passed and sees it here.
    pub fn passed(&self, address: IpAddr, link_id: i32) -> bool {
        let Ok(windows) = self.windows.lock() else {
            return false;
        };
        windows
            .by_pair
            .get(&(counted_as(address), link_id))
            .is_some_and(|window| window.count == PASSED)
    }

    /// The verdict on the answer `key` from `address` to `link_id` once it is stored: `verdict`,
    /// as [`AddressWindows::admit`] gave it, unless the answer was admitted and its address has
    /// [`passed`](AddressWindows::passed) the ceiling meanwhile — then held, itself the earlier
    /// answer to hold.
    pub fn once_stored(
        &self,
        verdict: Option<AddressVerdict>,
        address: Option<IpAddr>,
        link_id: i32,
        key: &str,
    ) -> Option<AddressVerdict> {
        let passed_meanwhile = matches!(verdict, Some(AddressVerdict::Admitted))
            && address.is_some_and(|address| self.passed(address, link_id));
        if passed_meanwhile {
            Some(AddressVerdict::Held {
                earlier: vec![key.to_owned()],
            })
        } else {
            verdict
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
        let key = |n: u8| crate::secrets::hex(&[n + 1; 16]);
        for n in 0..3 {
            assert_eq!(
                windows.admit(address, 7, &key(n), 3, 10),
                AddressVerdict::Admitted
            );
        }
        assert!(!windows.passed(address, 7));
        assert_eq!(
            windows.admit(address, 7, &key(3), 3, 10),
            AddressVerdict::Held {
                earlier: vec![key(0), key(1), key(2)]
            }
        );
        assert_eq!(
            windows.admit(address, 7, &key(4), 3, 10),
            AddressVerdict::Held {
                earlier: Vec::new()
            }
        );
        // An answer admitted before, stored only now, learns that it must be held too.
        assert!(windows.passed(address, 7));
        assert_eq!(
            windows.once_stored(Some(AddressVerdict::Admitted), Some(address), 7, &key(2)),
            Some(AddressVerdict::Held {
                earlier: vec![key(2)]
            })
        );
        // Another link, or another address, is counted apart.
        assert_eq!(
            windows.admit(address, 8, &key(5), 3, 10),
            AddressVerdict::Admitted
        );
        assert_eq!(
            windows.admit([10, 0, 0, 2].into(), 7, &key(6), 3, 10),
            AddressVerdict::Admitted
        );
        assert!(!windows.passed(address, 8) && !windows.passed([10, 0, 0, 2].into(), 7));
        assert_eq!(
            windows.once_stored(Some(AddressVerdict::Admitted), Some(address), 8, &key(5)),
            Some(AddressVerdict::Admitted)
        );
    }

    #[test]
    fn an_ipv6_network_of_one_subscriber_counts_as_one_address() {
        let windows = AddressWindows::default();
        let key = |n: u8| crate::secrets::hex(&[n; 16]);
        let phone = |last: u16| IpAddr::from([0x2408, 0x8400, 0x1, 0x2, 0x0, 0x0, 0x0, last]);
        for n in 1..=3 {
            assert_eq!(
                windows.admit(phone(u16::from(n)), 7, &key(n), 3, 10),
                AddressVerdict::Admitted
            );
        }
        assert_eq!(
            windows.admit(phone(99), 7, &key(4), 3, 10),
            AddressVerdict::Held {
                earlier: vec![key(1), key(2), key(3)]
            },
            "a fresh address of the same /64 is the same subscriber"
        );
        let neighbour = IpAddr::from([0x2408, 0x8400, 0x1, 0x3, 0, 0, 0, 1]);
        assert_eq!(
            windows.admit(neighbour, 7, &key(5), 3, 10),
            AddressVerdict::Admitted,
            "the next /64 is another subscriber"
        );
        // An IPv4 address and the same address mapped into IPv6 are one.
        let v4: IpAddr = [10, 0, 0, 1].into();
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().expect("an address");
        for n in 6..=8 {
            windows.admit(v4, 7, &key(n), 3, 10);
        }
        assert!(matches!(
            windows.admit(mapped, 7, &key(9), 3, 10),
            AddressVerdict::Held { .. }
        ));
    }

    #[test]
    fn a_window_is_small() {
        assert!(std::mem::size_of::<((u64, i32), Window)>() <= 48);
    }

    #[test]
    fn windows_still_open_are_kept_however_many_addresses_pass_the_sweep() {
        let windows = AddressWindows::default();
        let first: IpAddr = [10, 0, 0, 1].into();
        let key = |n: u8| crate::secrets::hex(&[n + 1; 16]);
        for n in 0..3 {
            windows.admit(first, 7, &key(n), 3, 10);
        }
        for n in 0..(PAIRS_REMEMBERED as u32 + 10) {
            windows.admit(IpAddr::from(n.to_be_bytes()), 8, &key(9), 3, 10);
        }
        let sweep_at = windows.windows.lock().expect("not poisoned").sweep_at;
        assert!(
            sweep_at > PAIRS_REMEMBERED,
            "swept once, next at {sweep_at}"
        );
        assert_eq!(
            windows.admit(first, 7, &key(3), 3, 10),
            AddressVerdict::Held {
                earlier: vec![key(0), key(1), key(2)]
            },
            "the first address's window survived the sweep"
        );
    }
}
