//! The one kind of in-process cache dupin keeps: values by key, each trusted for a while (or for
//! ever, for what never changes, such as a frozen survey version), and the whole cache started
//! afresh past a number of entries so that memory stays flat. Shared between worker threads; a
//! poisoned lock makes it a cache that remembers nothing, never an error.
//!
//! What is cached, and for how long, is decided where it is used (`web::AppState`); nothing here
//! knows of links or forms.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;
use std::time::{Duration, Instant};

pub struct TtlCache<K, V> {
    entries: RwLock<HashMap<K, (Instant, V)>>,
    /// How long an entry is trusted; `None` for ever.
    ttl: Option<Duration>,
    /// Past this many entries the cache starts afresh.
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// Entries trusted for `ttl`, at most `capacity` of them.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        TtlCache {
            entries: RwLock::default(),
            ttl: Some(ttl),
            capacity,
        }
    }

    /// Entries that never go stale (what never changes), at most `capacity` of them.
    pub fn forever(capacity: usize) -> Self {
        TtlCache {
            entries: RwLock::default(),
            ttl: None,
            capacity,
        }
    }

    /// The value of `key`, if it is there and still fresh.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let entries = self.entries.read().ok()?;
        let (stored, value) = entries.get(key)?;
        match self.ttl {
            Some(ttl) if stored.elapsed() >= ttl => None,
            _ => Some(value.clone()),
        }
    }

    pub fn insert(&self, key: K, value: V) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= self.capacity {
                entries.clear();
            }
            entries.insert(key, (Instant::now(), value));
        }
    }

    /// Forgets everything (after a change that makes the entries wrong).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }

    /// The value of `key`, made by `make` and kept when it is missing or stale.
    pub fn get_or_try_insert<E>(
        &self,
        key: K,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        if let Some(value) = self.get(&key) {
            return Ok(value);
        }
        let value = make()?;
        self.insert(key, value.clone());
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_entry_is_found_and_a_stale_one_is_not() {
        let cache: TtlCache<String, u32> = TtlCache::new(Duration::from_millis(30), 10);
        cache.insert("a".to_owned(), 1);
        assert_eq!(cache.get("a"), Some(1));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.get("a"), None);
    }

    #[test]
    fn the_cache_starts_afresh_past_its_capacity_and_can_be_cleared() {
        let cache: TtlCache<u32, u32> = TtlCache::forever(2);
        cache.insert(1, 1);
        cache.insert(2, 2);
        cache.insert(3, 3);
        assert_eq!((cache.get(&1), cache.get(&3)), (None, Some(3)));
        cache.clear();
        assert_eq!(cache.get(&3), None);
    }

    #[test]
    fn a_value_is_made_once_and_then_reused() {
        let cache: TtlCache<u32, u32> = TtlCache::forever(10);
        let made = cache.get_or_try_insert(7, || Ok::<_, ()>(49));
        let again = cache.get_or_try_insert(7, || Err(()));
        assert_eq!((made, again), (Ok(49), Ok(49)));
    }
}
