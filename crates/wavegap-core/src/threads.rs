//! Work split over scoped threads.

use std::thread::ScopedJoinHandle;

/// What a scoped thread returned; its panic, if it panicked, is carried on with its own
/// payload (the scope alone would end in a generic one).
pub fn joined<T>(handle: ScopedJoinHandle<'_, T>) -> T {
    handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
