//! [`SortedPairs`]: a small map kept as a `Vec` of pairs sorted by key, for the few maps the app
//! holds (a call's stats counters, an offer's fields). It behaves as `BTreeMap` does for what the
//! app uses (one entry per key, the last insert winning, iteration in key order, equality by
//! content), without `BTreeMap`'s node code in the wasm (about 20 KB raw: BENCHMARKS.md, "Web
//! app size").

use std::borrow::Borrow;

/// Pairs sorted by key, each key once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortedPairs<K, V> {
    pairs: Vec<(K, V)>,
}

impl<K, V> Default for SortedPairs<K, V> {
    fn default() -> Self {
        SortedPairs { pairs: Vec::new() }
    }
}

impl<K: Ord, V> SortedPairs<K, V> {
    /// Sets `key` to `value`, replacing the value it had.
    pub fn insert(&mut self, key: K, value: V) {
        match self.pairs.binary_search_by(|(present, _)| present.cmp(&key)) {
            Ok(index) => self.pairs[index].1 = value,
            Err(index) => self.pairs.insert(index, (key, value)),
        }
    }

    /// The value of `key`, if it has one.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let index = self.pairs.binary_search_by(|(present, _)| present.borrow().cmp(key)).ok()?;
        Some(&self.pairs[index].1)
    }

    /// The pairs in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.pairs.iter().map(|(key, value)| (key, value))
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SortedPairs<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let mut sorted = SortedPairs::default();
        for (key, value) in pairs {
            sorted.insert(key, value);
        }
        sorted
    }
}

#[cfg(test)]
mod tests {
    use super::SortedPairs;

    #[test]
    fn sorted_pairs_keep_one_entry_per_key_the_last_insert_winning_in_key_order() {
        let pairs: SortedPairs<String, u32> =
            [("b", 1), ("a", 2), ("c", 3), ("a", 4)].into_iter().map(|(key, value)| (key.to_owned(), value)).collect();
        let listed: Vec<(&str, u32)> = pairs.iter().map(|(key, value)| (key.as_str(), *value)).collect();
        assert_eq!(listed, [("a", 4), ("b", 1), ("c", 3)]);
        assert_eq!(pairs.get("a"), Some(&4));
        assert_eq!(pairs.get("d"), None);
    }

    #[test]
    fn sorted_pairs_are_equal_whatever_order_they_were_inserted_in() {
        let forward: SortedPairs<&str, u32> = [("a", 1), ("b", 2)].into_iter().collect();
        let backward: SortedPairs<&str, u32> = [("b", 2), ("a", 1)].into_iter().collect();
        assert_eq!(forward, backward);
    }
}
