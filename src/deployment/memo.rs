//! A per-run memo: the first caller of a key computes the value, concurrent and
//! later callers share it (one inspect per container, one connection per database).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

pub struct Memo<V> {
    cells: Mutex<HashMap<String, Arc<OnceCell<V>>>>,
}

impl<V> Default for Memo<V> {
    fn default() -> Self {
        Memo {
            cells: Mutex::new(HashMap::new()),
        }
    }
}

impl<V: Clone> Memo<V> {
    pub async fn get_or_init<F, Fut>(&self, key: &str, init: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let cell = self
            .cells
            .lock()
            .expect("memo lock")
            .entry(key.to_string())
            .or_default()
            .clone();
        cell.get_or_init(init).await.clone()
    }

    /// The value of `key`, if it was computed.
    pub fn get(&self, key: &str) -> Option<V> {
        let cells = self.cells.lock().expect("memo lock");
        cells.get(key)?.get().cloned()
    }
}
