//! What a case's set-up hands the harness: the typed facts every run receives, and the
//! things it owns (a database schema, a generated inbox, a server) that the harness drops on
//! every exit path: success, failure, `--timeout`, Ctrl-C, a panic in the parent.

use std::any::Any;

/// The result of `Case::setup`.
pub struct Setup<S> {
    /// Handed to every child run (and load generator) as `Case::Shared`.
    pub shared: S,
    owned: Owned,
}

impl<S> Setup<S> {
    pub fn new(shared: S) -> Self {
        Setup { shared, owned: Owned(Vec::new()) }
    }

    /// Gives the harness something to own until the case's runs are over; its `Drop` is the
    /// teardown. Things are dropped in the reverse of the order they were added, as locals
    /// are: add the database before the schema that lives in it.
    pub fn owning(mut self, thing: impl Send + 'static) -> Self {
        self.owned.0.push(Box::new(thing));
        self
    }

    pub(crate) fn into_parts(self) -> (S, Owned) {
        (self.shared, self.owned)
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for Setup<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setup").field("shared", &self.shared).field("owned", &self.owned.0.len()).finish()
    }
}

/// Everything a set-up owns, torn down last-in, first-out.
pub(crate) struct Owned(Vec<Box<dyn Any + Send>>);

impl Drop for Owned {
    fn drop(&mut self) {
        while let Some(thing) = self.0.pop() {
            drop(thing);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    struct Noisy(&'static str, Arc<Mutex<Vec<&'static str>>>);

    impl Drop for Noisy {
        fn drop(&mut self) {
            self.1.lock().unwrap().push(self.0);
        }
    }

    #[test]
    fn owned_things_are_dropped_last_in_first_out() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let setup =
            Setup::new(()).owning(Noisy("database", Arc::clone(&log))).owning(Noisy("schema", Arc::clone(&log)));
        let (_, owned) = setup.into_parts();
        assert!(log.lock().unwrap().is_empty());
        drop(owned);
        assert_eq!(*log.lock().unwrap(), ["schema", "database"]);
    }
}
